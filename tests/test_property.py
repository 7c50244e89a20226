"""Whatever bytes or text a contributor submits, validate answers with diagnostics, never a crash."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import fix, validate
from tests.conftest import valid_record

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
yaml_ish = st.text(
    alphabet=st.sampled_from(list(string.printable) + list("：，。“”■食药监局—")), max_size=300
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


def check(path: Path) -> None:
    report = validate.validate_paths([path])
    for d in report.diagnostics:
        assert d.file == str(path) and d.line >= 1 and d.col >= 1 and d.rule and d.message
    fix.fix_paths([path], check=True)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".md", ".jsonl"]))
def test_arbitrary_bytes(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    check(path)
    if data.replace(b"\xef\xbb\xbf", b"").strip() and not validate.validate_paths([path]).diagnostics:
        raise AssertionError("random bytes passed validation")  # pragma: no cover


@SETTINGS
@given(front=yaml_ish, body=st.text(max_size=300))
def test_arbitrary_front_matter_and_body(tmp_path: Path, front: str, body: str) -> None:
    path = tmp_path / "x.md"
    path.write_text(f"---\n{front}\n---\n\n{body}", encoding="utf-8", errors="surrogatepass")
    check(path)


@SETTINGS
@given(
    changes=st.dictionaries(
        st.sampled_from([*list(valid_record()), "hedline", "authors"]), json_values, max_size=4
    )
)
def test_arbitrary_field_values_in_jsonl(tmp_path: Path, changes: dict) -> None:
    record = {**valid_record(), **changes}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    check(path)
    report = validate.validate_paths([path])
    assert report.records == 1


tricky_text = st.text(
    alphabet=st.sampled_from(
        list('本报讯记者王强食药监局。，“”（）《》■ \u3000\n,;:?!()"\ufffd\x07\uf9001a-')
    ),
    max_size=120,
)


@SETTINGS
@given(body=tricky_text, headline=tricky_text, kicker=tricky_text, byline=tricky_text)
def test_screens_never_hide_a_diagnostic(body: str, headline: str, kicker: str, byline: str) -> None:
    """Each rule's cheap screen passes whenever the rule itself reports something."""
    from builder import rules
    from builder.sources import Source, split_paragraphs

    data = {**valid_record(), "body": body, "headline": headline, "kicker": kicker, "byline": byline}
    md_paragraphs = split_paragraphs(body.split("\n"), first_line=10)
    md_data = {**data, "body": "\n".join(p.text for p in md_paragraphs)}
    for src in (Source("x", 1, data, format="jsonl"), Source("x", 1, md_data, paragraphs=md_paragraphs)):
        screened = sorted(rules.check(src, screened=True))
        assert screened == sorted(rules.check(src, screened=False))
