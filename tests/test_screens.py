"""The batch screens (builder/screens.py) never hide a diagnostic, whatever the batch holds."""

from __future__ import annotations

import itertools
import json
import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import synth
from builder import build, bylines, corpus, neardup, rules, screens, text, validate
from builder.sources import Source, read_path
from tests.conftest import REPO, valid_record

_scan = screens._scan

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters every rule looks at: CJK, spaces of three kinds, marks of both widths, brackets,
# byline markers, datelines, controls, a combining accent, a Hangul vowel, an astral ideograph.
ALPHABET = list(
    '本报讯记者王强食药监局电新华社北京月日。，：“”‘’（）《》【】■ \u3000\u00a0\n,;:?!()"\ufffd\x07\u200b'
    "\uf900\u0301\u1161가\U00020001e1a-.%"
)
BYLINE_PARTS = [
    "记者",
    "通讯员",
    "摄影",
    "图",
    "王强",
    "李",
    "四",
    "胡佳英",
    "记者胡佳英",
    "·",
    "■",
    " ",
    "\u3000",
    "、",
]
BYLINE_PARTS += ["（", "）", "本报讯", "买买提·艾力", "实习生", "责任编辑"]
tricky = st.text(alphabet=st.sampled_from(ALPHABET), max_size=80)
record = st.fixed_dictionaries(
    {"body": tricky, "headline": tricky, "kicker": tricky, "section": tricky, "byline": tricky}
)


@SETTINGS
@given(st.lists(record, min_size=1, max_size=6))
def test_batch_flags_never_hide_a_diagnostic(changes: list[dict[str, str]]) -> None:
    """Each record of a batch gets, with its batch's flags, what every rule unscreened gives."""
    sources = [
        Source("x.jsonl", i + 1, {**valid_record(), **c}, format="jsonl") for i, c in enumerate(changes)
    ]
    body = screens.body_flags([s.data["body"] for s in sources])
    for src, flags in zip(sources, validate.batch_flags(sources, body), strict=True):
        assert sorted(rules.check(src, flags=flags)) == sorted(rules.check(src, screened=False))


def test_clean_records_raise_no_flag() -> None:
    """The point of the screens: the corpus's clean articles leave every batched rule asleep
    (but C103's: a paragraph of 60 characters or less could be a byline)."""
    articles = sorted((REPO / "articles").rglob("*.md"))
    sources = [Source("x.jsonl", 1, read_path(p).sources[0].data, format="jsonl") for p in articles]
    flags = validate.batch_flags(sources, screens.body_flags([src.data["body"] for src in sources]))
    assert {rule for f in flags for rule in f} == {"C103"}
    assert flags.count(frozenset()) >= 2


def test_a_flag_rises_for_the_rule_that_reports() -> None:
    more = "我市召开会议" * 12  # a paragraph too long to be a byline (C103)
    bodies = [
        f"本报讯 11月7日上午，{more}。",
        f"会议邀请省食 药 监 局{more}。",
        f"他说,{more}。",
        f"“{more}。",
    ]
    assert [sorted(f) for f in screens.body_flags(bodies)] == [[], ["C201"], ["C202"], ["C203"]]


def test_the_class_table_marks_each_code_point_as_its_definition_says() -> None:
    """The table (built from runs of matches) against each definition asked of every character."""
    table = screens.table()
    cjk, latin = re.compile(text.CJK_CHAR), re.compile(text._LATIN_CHAR_RE.pattern)
    for cp in itertools.chain(range(screens.BMP), range(screens.BMP, screens.CODE_POINTS, 97)):
        ch = chr(cp)
        expected = {
            screens.CJK: cjk.fullmatch(ch) is not None,
            screens.LATIN: cp < screens.BMP and latin.fullmatch(ch) is not None,
            screens.BAD: cp < screens.BMP and text._BAD_CHAR_RE.fullmatch(ch) is not None,
            screens.WHITE: cp < screens.BMP and ch.isspace(),
            screens.SPACE: ch in text.SPACES,
        }
        got = {bit: bool(table[cp] & bit) for bit in expected}
        assert got == expected, hex(cp)


def test_characters_left_unflagged_are_nfc_on_their_own_and_after_any_other() -> None:
    """No character the NFC bit leaves out changes under NFC, alone or after a character that
    could compose with it."""
    safe = np.flatnonzero((screens.table()[: screens.BMP] & screens.NFC) == 0)
    for cp in safe.tolist():
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        assert unicodedata.is_normalized("NFC", ch), hex(cp)
    bases = "aeouAEOUnc\u3046\u30ab\u1100\uac00"
    for cp in safe.tolist():
        if 0xD800 <= cp < 0xE000:
            continue
        for base in bases:
            assert unicodedata.normalize("NFC", base + chr(cp)) == base + chr(cp), (base, hex(cp))


# builder._scan is built by `pip install -e .` wherever there is a C compiler; in CI it must be.
needs_c = pytest.mark.skipif(
    screens._scan is None and not os.environ.get("CI"), reason="builder._scan is not built here"
)
# Texts of each kind of Python string: Latin-1 only, the Basic Multilingual Plane, and astral.
LATIN_ONLY = list("ab1 .,;:?!()\n\u00a0\x07\u00e9-%")
any_kind = st.one_of(
    st.text(alphabet=st.sampled_from(LATIN_ONLY), max_size=80),
    tricky,
    st.text(alphabet=st.sampled_from([*ALPHABET, "\U00020001", "\U0001f600"]), max_size=80),
)


@needs_c
@SETTINGS
@given(st.lists(any_kind, max_size=12), st.sampled_from([screens.BATCHED, screens.FIELD_RULES, ("C209",)]))
def test_the_c_screens_are_the_numpy_screens(texts: list[str], names: tuple[str, ...]) -> None:
    """builder._scan gives the flags and sketches of the numpy definitions, text for text."""
    found = screens.screen(texts, names, sketch=True, engine="c")
    expected = screens.screen(texts, names, sketch=True, engine="numpy")
    assert found.flags == expected.flags
    assert found.sketches is not None and expected.sketches is not None
    assert found.sketches.tolist() == expected.sketches.tolist()


@needs_c
@SETTINGS
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([*rules.TEXT_FIELDS, "body"]), st.one_of(any_kind, st.integers(), st.none())
        ),
        max_size=8,
    )
)
def test_the_c_field_screens_are_the_numpy_screens(records: list[dict[str, object]]) -> None:
    """Each field scanned alone in C raises what the fields joined one per line raise in numpy."""
    expected = screens.field_flags(records, rules.TEXT_FIELDS, engine="numpy")
    assert screens.field_flags(records, rules.TEXT_FIELDS, engine="c") == expected


@needs_c
def test_the_c_screens_agree_on_long_texts_and_every_rule() -> None:
    """Whole articles (the corpus's bodies, and each with a fault per rule) flag and sketch alike."""
    bodies = [read_path(p).sources[0].data["body"] for p in sorted((REPO / "articles").rglob("*.md"))]
    faulty = [b.replace("，", ",", 1) for b in bodies] + [b.replace("。", "  ", 1) for b in bodies]
    faulty += [b.replace("”", "", 1) + "\u0301■\x07" for b in bodies] + [
        "本报讯 11月7日 上午\n短行\n" + b for b in bodies
    ]
    texts = bodies + faulty + ["", "\u3000 \n", "　短讯。" * 9, "\t短讯。" * 10, "短讯。" * 14]
    found = screens.screen(texts, screens.BATCHED, sketch=True, engine="c")
    expected = screens.screen(texts, screens.BATCHED, sketch=True, engine="numpy")
    assert found.flags == expected.flags
    assert {rule for f in found.flags for rule in f} == set(screens.BATCHED)
    assert found.sketches is not None and (found.sketches == expected.sketches).all()


@needs_c
def test_validate_reports_the_same_with_either_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corpus with injected errors of every kind gets the same report from C and numpy screens."""
    corpus = tmp_path / "corpus.jsonl"
    synth.write_jsonl(corpus, 600, seed=5, error_rate=0.3)
    with_c = validate.validate_paths([corpus], jobs=1)
    monkeypatch.setenv("NEWSSET_SCREENS", "numpy")
    with_numpy = validate.validate_paths([corpus], jobs=1)
    assert with_c.errors > 50 and with_c.warnings > 0
    assert with_c.sorted() == with_numpy.sorted()


WHITE_AND_NOT = st.text(
    alphabet=st.sampled_from(list("短讯。 \u3000\u00a0\n\t\x1c\u2028\u200b")), max_size=200
)


@SETTINGS
@given(st.lists(WHITE_AND_NOT, min_size=1, max_size=6), st.sampled_from(["c", "numpy"]))
def test_the_short_body_screen_is_the_rules_own(texts: list[str], engine: str) -> None:
    """C105 and C205 rise in a batch exactly where `rules.short_text` says a body is short."""
    if engine == "c" and screens._scan is None and not os.environ.get("CI"):
        return
    flags = screens.screen(texts, ("C105", "C205"), engine=engine).flags
    assert [bool(f) for f in flags] == [rules.short_text(t) for t in texts]


def test_numpy_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSET_SCREENS", "numpy")
    assert not screens.native()
    assert screens.body_flags(["他说,我市召开会议。" * 9]) == [frozenset({"C202"})]


def test_the_batch_sketches_are_neardups() -> None:
    bodies = [
        "本报讯 11月7日上午，我市举行会议。" * 5,
        "",
        "  ",
        "会议邀请省食药监局纪检组原组长作讲座。" * 3,
    ]
    assert (screens.Batch(bodies).sketches() == neardup.sketches(bodies)).all()


@SETTINGS
@given(st.lists(st.sampled_from(BYLINE_PARTS), max_size=8))
def test_the_quick_byline_parse_agrees_with_the_long_way(parts: list[str]) -> None:
    line = " ".join(parts) if len(parts) % 2 else "".join(parts)
    quick = bylines.parse_plain(line)
    assert quick is None or quick == bylines.parse_tokens(line)


def test_every_rule_is_screened_in_batches_or_with_the_others() -> None:
    """A new rule must join one of the two fast screens, or the clean-record shortcut would skip it."""
    assert sorted(entry.rule_id for entry in rules.ENTRIES) == sorted((*screens.BATCHED, *rules.OTHERS))


ID_PIECES = (
    ["pinghu", "a-b", "", "pinghu-20201109"],
    ["20201109", "20201108", "2020110", "x"],
    ["p01", "p1", "p02", "p001", "p１", "a1", "p", "p0x", "-"],
    ["01", "1", "001", "01\n", "x"],
)


@SETTINGS
@given(
    record_id=st.one_of(st.tuples(*map(st.sampled_from, ID_PIECES)).map("-".join), st.text(max_size=12)),
    date=st.one_of(st.sampled_from(["2020-11-09", "20201109", "2020-11-0", ""]), st.integers(), st.none()),
    page=st.one_of(st.integers(-1, 3), st.booleans(), st.none(), st.text(max_size=2)),
)
def test_the_id_screen_never_hides_an_id_disagreement(record_id: str, date: object, page: object) -> None:
    data = {"id": record_id, "date": date, "page": page}
    if validate.id_agrees(data):
        assert list(validate.id_agreement(Source("a.jsonl", 1, data, format="jsonl"))) == []


def test_the_id_screen_passes_the_plain_agreeing_id() -> None:
    assert validate.id_agrees({"id": "pinghu-20201109-p01-03", "date": "2020-11-09", "page": 1})
    assert not validate.id_agrees({"id": "pinghu-20201109-p02-03", "date": "2020-11-09", "page": 1})
    assert not validate.id_agrees({"id": "pinghu-20201108-p01-03", "date": "2020-11-09", "page": 1})


CHANGES = ["none", "role", "name", "drop", "extra key", "not a dict", "given"]


def changed(authors: list[dict[str, str]], change: str, given: list[object]) -> list[object]:
    """The derived authors with one thing changed (or a list drawn apart, for "given")."""
    out: list[object] = [dict(a) for a in authors]
    if change == "given" or not out:
        return given
    first = out[0]
    assert isinstance(first, dict)
    if change == "role":
        first["role"] = "editor" if first["role"] != "editor" else "other"
    elif change == "name":
        first["name"] += "强"
    elif change == "drop":
        out.pop()
    elif change == "extra key":
        first["note"] = ""
    elif change == "not a dict":
        out[0] = first["name"]
    return out


@SETTINGS
@given(
    byline=st.lists(st.sampled_from(BYLINE_PARTS), min_size=1, max_size=6).map(" ".join),
    change=st.sampled_from(CHANGES),
    given_authors=st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(["王强", "胡佳英"]), "role": st.just("reporter")}),
        max_size=2,
    ),
)
def test_same_authors_is_the_comparison_with_authors_of(
    byline: str, change: str, given_authors: list[object]
) -> None:
    """`others_may_report` compares a record's authors with its byline's in place; the same
    answer as building `authors_of` and comparing the lists."""
    parsed = bylines.parse(byline)
    if parsed is None:
        return
    authors = changed(bylines.authors_of(byline), change, given_authors)
    assert bylines.same_authors(parsed, authors) == (bylines.authors_of(byline) == authors)


TITLE_PIECES = ["会议", "会议会议", "召开", "召开召开", " ", "\u3000", "\u00a0", "平湖", "平湖平湖平湖平湖"]
title = st.one_of(
    st.lists(st.sampled_from(TITLE_PIECES), max_size=5).map("".join), tricky, st.integers(), st.none()
)


@needs_c
@SETTINGS
@given(
    titles=st.tuples(title, title, title),
    long_headline=st.booleans(),
    byline=st.one_of(
        st.lists(st.sampled_from(BYLINE_PARTS), min_size=1, max_size=6).map(" ".join),
        st.lists(st.sampled_from(BYLINE_PARTS), min_size=1, max_size=6).map("".join),
        st.integers(),
    ),
    change=st.sampled_from([*CHANGES, "absent", "not a list"]),
    given_authors=st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(["王强", "胡佳英"]), "role": st.just("reporter")}),
        max_size=2,
    ),
)
def test_the_c_others_screen_is_others_may_report(
    titles: tuple[object, object, object],
    long_headline: bool,
    byline: object,
    change: str,
    given_authors: list[object],
) -> None:
    """`_scan.others` answers what `rules.others_may_report` answers, or leaves it to Python."""
    record: dict[str, object] = dict(zip(rules.TITLE_FIELDS, titles, strict=True))
    if long_headline:
        record["headline"] = "长" * (rules.LONG_HEADLINE + 1)
    record["byline"] = byline
    if change == "not a list":
        record["authors"] = "王强"
    elif change != "absent":
        derived = bylines.authors_of(byline) if isinstance(byline, str) else []
        record["authors"] = changed(derived, change, given_authors)
    answers = np.zeros(1, dtype=np.int8)
    screens.c_others([record], answers, rules.TITLE_FIELDS, rules.LONG_HEADLINE)
    if answers[0] >= 0:
        assert bool(answers[0]) == rules.others_may_report(record)
    else:
        assert isinstance(byline, str) and bylines.parse_plain(byline) is None
    assert bool(rules.others_flags([record])[0]) == rules.others_may_report(record)


@needs_c
def test_the_c_others_screen_decides_plain_bylines() -> None:
    """On records as the corpus has them, C answers every one itself (and as Python does)."""
    records = [read_path(p).sources[0].data for p in sorted((REPO / "articles").rglob("*.md"))]
    titles = [
        "平湖平湖平湖平湖",
        "平湖平湖平湖平湖 会议",
        "会议 \u3000召开会议召开会议\u3000",
        "会议 召开 会议召开",
    ]
    records += [{**r, "headline": headline} for r in records for headline in titles]
    records += [{**r, "authors": [{"name": "王强", "role": "reporter"}]} for r in records if r.get("authors")]
    answers = np.zeros(len(records), dtype=np.int8)
    screens.c_others(records, answers, rules.TITLE_FIELDS, rules.LONG_HEADLINE)
    assert (answers >= 0).all()
    assert [bool(a) for a in answers] == [rules.others_may_report(r) for r in records]
    assert 0 < answers.sum() < len(records)


# Ids, dates and pages near those that agree: dashes, digits of both scripts, labels too long to read.
id_part = st.sampled_from(
    ["synth", "20201109", "2020-11-09", "p01", "p1", "p", "P01", "p０1", "p9" * 12, "0001", ""]
)
id_text = st.one_of(
    st.lists(id_part, max_size=5).map("-".join),
    st.tuples(
        id_part,
        id_part,
        st.sampled_from(["p01", "p02", "p1", "p12", "p", "p" + "9" * 19, "pa", "x01"]),
        id_part,
    ).map("-".join),
)


@needs_c
@SETTINGS
@given(
    record_id=st.one_of(id_text, st.integers(), st.none()),
    date=st.one_of(st.sampled_from(["2020-11-09", "20201109", "2020-11-0９", "-", ""]), st.integers()),
    page=st.one_of(
        st.integers(min_value=-2, max_value=12), st.just(9**40), st.booleans(), st.none(), st.just("1")
    ),
    absent=st.sampled_from(["", "page", "date", "id"]),
)
def test_the_c_id_screen_is_id_agrees(record_id: object, date: object, page: object, absent: str) -> None:
    """`_scan.ids_agree` answers what `validate.id_agrees` answers, but may say false where a
    page label is too long for it to read; false only sends a record to the closer look."""
    record = {
        key: value for key, value in (("id", record_id), ("date", date), ("page", page)) if key != absent
    }
    answers = np.zeros(1, dtype=np.int8)
    screens.compiled().ids_agree([record], answers)
    if answers[0]:
        assert validate.id_agrees(record)
    else:
        label_too_long = isinstance(record_id, str) and "9" * 19 in record_id
        assert not validate.id_agrees(record) or label_too_long
    record_id = "synth-20201109-p01-0001"
    agreeing = [{"id": record_id, "date": "2020-11-09", "page": 1}, {"id": record_id, "date": "2020-11-09"}]
    answers = np.zeros(2, dtype=np.int8)
    screens.compiled().ids_agree(agreeing, answers)
    assert answers.tolist() == [1, 1]


@pytest.mark.parametrize("engine", ["c", "numpy"])
def test_clean_records_are_those_check_record_finds_nothing_in(engine: str, monkeypatch) -> None:
    """`validate.clean_records` lets a record skip `check_record` only where it would find
    nothing, and lets most clean ones skip it, on a corpus with every kind of error."""
    monkeypatch.setenv("NEWSSET_SCREENS", engine)
    lines = [json.dumps(r, ensure_ascii=False) for r, _ in synth.generate(600, seed=3, error_rate=0.3)]
    sources = [
        Source("x.jsonl", i + 1, json.loads(line), format="jsonl", raw=line.encode())
        for i, line in enumerate(lines)
    ]
    flags = validate.batch_flags(sources, screens.body_flags([s.data.get("body") for s in sources]))
    clean = validate.clean_records(sources, flags)
    found = [validate.check_record(src, raised) for src, raised in zip(sources, flags, strict=True)]
    assert all(not f for f, c in zip(found, clean, strict=True) if c)
    assert sum(clean) > 0.6 * sum(not f for f in found)
    assert sum(bool(f) for f in found) > 100


# Strings of every width Python stores, lone surrogates too, and values that are not strings.
hashed = st.one_of(
    any_kind, st.text(), st.text(alphabet=st.sampled_from(["\ud800", "\udfff", "a", "é", "中"]))
)


@needs_c
@SETTINGS
@given(st.lists(st.one_of(hashed, st.none(), st.integers()), max_size=12))
def test_the_c_text_hashes_are_text_hash(values: list[object]) -> None:
    """`_scan.hashes` reads the characters where Python keeps them; `corpus.text_hash` encodes
    them in the same width: the hashes are the same, so either engine finds the same repeats."""
    found = corpus.text_hashes(values)
    expected = [corpus.text_hash(v) if isinstance(v, str) else 0 for v in values]
    assert found.tolist() == expected
    os.environ["NEWSSET_SCREENS"] = "numpy"
    try:
        assert corpus.text_hashes(values).tolist() == expected
    finally:
        del os.environ["NEWSSET_SCREENS"]


@SETTINGS
@given(hashed, hashed)
def test_text_hash_tells_strings_apart_by_value_not_by_how_they_were_made(a: str, b: str) -> None:
    """Equal strings, however built, hash alike; the bytes hashed are the string in its width."""
    data, width = corpus.stored(a)
    assert width in (1, 2, 4) and len(data) == width * len(a)
    assert np.frombuffer(data, dtype=f"u{width}").tolist() == [ord(c) for c in a]
    assert width == 1 or max(map(ord, a)) >= (0x100 if width == 2 else 0x10000)
    rebuilt = "".join(list(a + b))[: len(a)]  # the same characters, another object
    assert corpus.text_hash(rebuilt) == corpus.text_hash(a)
    if a != b:
        assert corpus.stored(a) != corpus.stored(b)


# Bodies with every character JSON writers treat differently: quotes, backslashes, controls,
# DEL, the line separators JavaScript minds, a slash, CJK and an astral character.
JSON_TRICKY = st.text(
    alphabet=st.sampled_from(
        [
            '"',
            "\\",
            "/",
            "\n",
            "\t",
            "\x00",
            "\x08",
            "\x0b",
            "\x1f",
            "\x7f",
            "\u2028",
            "a",
            "中",
            "\U0001f600",
        ]
    ),
    max_size=30,
)
WRITERS = {
    "orjson": orjson.dumps,
    "json, compact": lambda r: json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode(),
    "json, spaced": lambda r: json.dumps(r, ensure_ascii=False).encode(),
    "json, ASCII": lambda r: json.dumps(r).encode(),
    "slashes escaped": lambda r: orjson.dumps(r).replace(b"/", b"\\/"),
}


@needs_c
@SETTINGS
@given(
    body=JSON_TRICKY,
    other=JSON_TRICKY,
    writer=st.sampled_from(sorted(WRITERS)),
    nested=st.booleans(),
    body_first=st.booleans(),
)
def test_a_body_taken_from_its_line_is_written_as_orjson_writes_it(
    body: str, other: str, writer: str, nested: bool, body_first: bool
) -> None:
    """Where `_scan.string_value` finds the body on a line, the line's bytes for it are what
    orjson writes for the body, so a release line made with them is the same bytes; on a line
    orjson wrote, it always finds it."""
    record: dict[str, object] = {"id": "x-1", "headline": other}
    if nested:
        record["authors"] = [{"body": other, "name": "王强"}]
    record = {"body": body, **record} if body_first else {**record, "body": body}
    line = WRITERS[writer](record)
    span = _scan.string_value(line, b"body")
    if writer == "orjson":
        assert span is not None
    if span is not None:
        token = line[span[0] : span[1]]
        assert orjson.loads(token) == body
        assert orjson.dumps({**record, "body": orjson.Fragment(token)}) == orjson.dumps(record)


# Values of every JSON type a record may hold, nested; the keys are the schema's and others.
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        JSON_TRICKY,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "role", "名", "a\\b"]), inner, max_size=3),
    ),
    max_leaves=8,
)
NAMES = ("id", "date", "page", "authors", "body")


@needs_c
@SETTINGS
@given(
    record=st.dictionaries(st.sampled_from([*NAMES, "other"]), JSON_VALUES, max_size=6),
    writer=st.sampled_from(sorted(WRITERS)),
)
def test_a_release_line_made_from_its_line_is_orjsons_line_of_the_plain_record(
    record: dict[str, object], writer: str
) -> None:
    """Where `_scan.release_line` makes a line, it is the line orjson writes for the record
    `build.plain` makes of what orjson reads (the fields in order, nulls and others left out);
    on a line orjson wrote with integers that fit it always makes one."""
    try:
        line = WRITERS[writer](record)
    except (TypeError, orjson.JSONEncodeError):  # an integer past 64 bits
        return
    made = _scan.release_line(line, tuple(n.encode() for n in NAMES))
    read = orjson.loads(line) if made is not None else None
    if made is not None:
        assert made == orjson.dumps(build.plain(read, NAMES))
    if writer == "orjson" and plain_numbers(record):
        assert made is not None, line


def plain_numbers(value: object) -> bool:
    """No float and no integer of more digits than `release_line` copies (18), anywhere."""
    if isinstance(value, dict):
        return all(plain_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(plain_numbers(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return isinstance(value, int) and len(str(abs(value))) <= 18


@needs_c
def test_a_release_line_is_not_made_where_it_could_differ() -> None:
    names = tuple(n.encode() for n in NAMES)
    for line in (
        b'{"id":"a","id":"b"}',  # a field twice
        b'{"authors":[{"name":"a","name":"b"}]}',  # a key twice in a nested object
        b'{"i\\u0064":"a"}',  # an escaped key
        b'{"page":1.0}',
        b'{"page":1e2}',
        b'{"page":-0}',
        b'{"page":12345678901234567890}',
        b'{"body":"\\u4e2d"}',
        b'{"body":"\\/"}',
        b'{"body":"a"',
        b'["id"]',
    ):
        assert _scan.release_line(line, names) is None, line
    line = b' { "other" : [1, {"x": null}] , "body" : "\\u001f\\n" , "page" : -12, "id" : null } '
    assert _scan.release_line(line, names) == b'{"page":-12,"body":"\\u001f\\n"}'
    assert _scan.release_line(b"{}", names) == b"{}"


@needs_c
@SETTINGS
@given(
    bodies=st.lists(st.one_of(JSON_TRICKY, st.text()), min_size=1, max_size=4),
    writer=st.sampled_from(sorted(WRITERS)),
    body_first=st.booleans(),
)
def test_split_string_parts_the_lines_into_the_rest_and_the_texts(
    bodies: list[str], writer: str, body_first: bool
) -> None:
    """Where `_scan.split_string` parts JSONL lines, the rest of each line reads as the record
    without its body and the texts are the bodies' UTF-8; it parts every line that has a body
    UTF-8 can hold (no lone surrogate)."""
    records = []
    for i, body in enumerate(bodies):
        record: dict[str, object] = {"id": f"x-{i}", "authors": [{"body": "不是", "name": "王强"}]}
        records.append({"body": body, **record} if body_first else {**record, "body": body})
    try:
        data = b"".join(WRITERS[writer](r) + b"\n" for r in records)
    except (UnicodeEncodeError, orjson.JSONEncodeError):  # a lone surrogate, in UTF-8
        return
    rest, texts = bytearray(len(data)), bytearray(len(data))
    parts = _scan.split_string(data, b"body", rest, texts)
    holds = all(not any(0xD800 <= ord(c) <= 0xDFFF for c in body) for body in bodies)
    assert (parts is not None) == holds, data
    if parts is None:
        return
    offsets, rest_size, texts_size = parts
    cuts = np.frombuffer(offsets, dtype=np.int32).tolist()
    assert cuts[0] == 0 and cuts[-1] == texts_size and len(cuts) == len(bodies) + 1
    found = [bytes(texts[a:b]).decode("utf-8") for a, b in itertools.pairwise(cuts)]
    assert found == bodies
    lines = bytes(rest[:rest_size]).split(b"\n")
    assert lines[-1] == b"" and [orjson.loads(line) for line in lines[:-1]] == [
        {k: v for k, v in r.items() if k != "body"} for r in records
    ]


@needs_c
def test_split_string_parts_nothing_unless_every_line_has_its_string() -> None:
    for data in (
        b'{"body":"a"}\n{"id":"b"}\n',  # a line without it
        b'{"body":"a","body":"b"}\n',
        b'{"body":1}\n',
        b'{"b\\u006fdy":"a"}\n',
        b'{"body":"\\ud800"}\n',
        b'{"body":"\\x"}\n',
        b'{"body":"a"}',  # not ended by a newline
    ):
        assert _scan.split_string(data, b"body", bytearray(len(data)), bytearray(len(data))) is None, data
    with pytest.raises(ValueError):
        _scan.split_string(b'{"body":"a"}\n', b"body", bytearray(1), bytearray(20))


@needs_c
def test_a_body_written_twice_or_not_as_a_plain_string_is_not_taken() -> None:
    for line in (
        b'{"body":"a","body":"b"}',
        b'{"body":1}',
        b'{"b\\u006fdy":"a","body":"b"}',
        b'{"body":"\\u4e2d"}',
        b'{"body":"\\u000A"}',
        b'{"body":"\\u000a"}',
        b'["body","a"]',
        b'{"body":"a"',
    ):
        assert _scan.string_value(line, b"body") is None, line
    line = b' { "id" : [1, {"body": "x"}] , "body" : "\\u001f\\n" } '
    start = line.index(b'"\\u001f')
    assert _scan.string_value(line, b"body") == (start, start + len(b'"\\u001f\\n"'))
