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
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
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
    if data.strip() and not validate.validate_paths([path]).diagnostics:
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
