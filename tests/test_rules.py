"""Every rule has a case that trips it and the clean corpus record that passes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builder import rules, sources, text
from builder.catalog import RULES
from tests.conftest import ARTICLES, diagnostics_of, valid_record, write_jsonl, write_md

BODY = valid_record()["body"]
OTHER_BODY = "\n".join(
    p.text for p in sources.read_path(ARTICLES / "2020/11/09/pinghu-20201109-p01-05.md").sources[0].paragraphs
)
FIRST, REST = BODY.split("\n", 1)


def md_with_body(tmp_path: Path, body_text: str, **changes: Any) -> Path:
    """An .md article whose body section is exactly `body_text` (lines as given)."""
    path = write_md(tmp_path, valid_record(**changes))
    head = path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    path.write_text(head + "\n---\n\n" + body_text + "\n", encoding="utf-8")
    return path


Case = Callable[[Path], Path]

# rule id → (a file that trips it, the line the diagnostic must point at)
TRIPS: dict[str, tuple[Case, int]] = {
    "F001": (lambda t: _bytes(t, "x.md", "---\nid: 今日\n---\n".encode("gb18030")), 2),
    "F002": (lambda t: _bytes(t, "x.md", "---\nid: [unclosed\n---\n\n正文\n".encode()), 3),
    "F003": (lambda t: _bytes(t, "x.jsonl", b'{"id": 1\n'), 1),
    "F004": (lambda t: _bytes(t, "x.md", _md_bytes(t).replace(b"page: 1\n", b"page: 1\npage: 2\n")), 6),
    "S001": (lambda t: write_md(t, valid_record(headline=None)), 1),
    "S002": (lambda t: _bytes(t, "x.md", _md_bytes(t).replace(b"headline:", b"title: x\nheadline:")), 7),
    "S003": (lambda t: _bytes(t, "x.md", _md_bytes(t).replace(b"page: 1", b'page: "1"')), 5),
    "S004": (lambda t: write_md(t, valid_record(id="Pinghu_2020")), 2),
    "S005": (lambda t: write_md(t, valid_record(headline="长" * 101)), 7),
    "S006": (lambda t: write_md(t, valid_record(authors=[{"name": "王强", "role": "boss"}])), 10),
    "S007": (lambda t: write_md(t, valid_record(date="2020-11-31", id="pinghu-20201131-p01-02")), 4),
    "S008": (lambda t: write_md(t, valid_record(id="pinghu-20201110-p01-02")), 2),
    "C101": (
        lambda t: md_with_body(t, FIRST[:14] + "\n" + FIRST[14:] + "\n\n" + REST.replace("\n", "\n\n")),
        13,
    ),
    "C102": (lambda t: write_md(t, valid_record(headline="平湖庆祝记者节平湖庆祝记者节")), 7),
    "C103": (lambda t: md_with_body(t, FIRST + "\n\n■记者 冯思家"), 14),
    "C104": (lambda t: md_with_body(t, FIRST + "\n\n会议\ufffd召开。"), 14),
    "C105": (lambda t: md_with_body(t, ""), 11),
    "C106": (lambda t: write_md(t, valid_record(byline="记者 李雨婷 摄影")), 9),
    "C201": (lambda t: md_with_body(t, FIRST + "\n\n省食 药 监 局纪检组原组长。"), 14),
    "C202": (lambda t: md_with_body(t, FIRST + '\n\n要完善“大联动"机制,加强联动。'), 14),
    "C203": (lambda t: md_with_body(t, FIRST + "\n\n他说：“要加强联动。"), 14),
    "C204": (lambda t: write_md(t, valid_record(headline="平湖\uf900记者节")), 7),
    "C205": (lambda t: md_with_body(t, "本报讯 会议召开。"), 12),
    "C206": (lambda t: write_md(t, valid_record(headline="平湖" * 25)), 7),
    "C207": (lambda t: write_md(t, valid_record(authors=[{"name": "王强", "role": "reporter"}])), 10),
    "C208": (lambda t: write_md(t, valid_record(byline="平湖日报社供稿")), 9),
    "F005": (lambda t: t / "missing.md", 1),
    "C209": (lambda t: md_with_body(t, FIRST + "\n\n当天，还对 2019-2020年度平湖市“好记者”进行了表彰。"), 14),
    "D301": (lambda t: _twice(t, same_body=False), 2),
    "D302": (lambda t: _twice(t, same_body=True), 12),
    "D303": (lambda t: _twice(t, same_body=False, edit=True), 12),
}


def _bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _md_bytes(folder: Path) -> bytes:
    return write_md(folder, valid_record(), "base.md").read_bytes()


def _twice(folder: Path, same_body: bool, edit: bool = False) -> Path:
    """Two records: the same id (D301), the same body (D302) or a reprint with a small edit (D303)."""
    first = valid_record()
    if edit:
        second = valid_record(
            id="pinghu-20201109-p01-07", body=BODY.replace("今年以来", "今年", 1) + "\n补充一段。"
        )
    elif same_body:
        second = valid_record(id="pinghu-20201109-p01-07")
    else:
        second = valid_record(body=OTHER_BODY)
    write_md(folder, first, "a.md")
    write_md(folder, second, "b.md")
    return folder


def test_every_corpus_rule_has_a_case() -> None:
    """Release rules (R…) are tripped by the release tests, on damaged releases."""
    assert set(TRIPS) == {rule_id for rule_id in RULES if not rule_id.startswith("R")}


@pytest.mark.parametrize("rule_id", sorted(TRIPS))
def test_rule_trips_at_its_line(tmp_path: Path, rule_id: str) -> None:
    make, line = TRIPS[rule_id]
    target = make(tmp_path)
    if target.name != "base.md":
        for other in tmp_path.glob("base.md"):
            other.unlink()
    found = [d for d in diagnostics_of(target) if d["rule"] == rule_id]
    assert found, f"{rule_id} did not trip"
    assert found[0]["line"] == line
    assert found[0]["severity"] == RULES[rule_id].severity
    assert found[0]["hint"]


def test_clean_record_passes_every_rule(tmp_path: Path) -> None:
    write_md(tmp_path, valid_record())
    write_jsonl(tmp_path, [valid_record(id="pinghu-20201109-p01-09", body=OTHER_BODY)])
    assert diagnostics_of(tmp_path, strict=True) == []


def test_unknown_field_suggests_the_closest_known_one(tmp_path: Path) -> None:
    path = _bytes(tmp_path, "x.md", _md_bytes(tmp_path).replace(b"\nheadline:", b"\nhedline:"))
    messages = {d["rule"]: d for d in diagnostics_of(path)}
    assert messages["S002"]["hint"] == "did you mean 'headline'?"
    assert messages["S001"]["message"] == "missing required field 'headline'"


def test_jsonl_hard_wrap_needs_a_run_of_column_wide_lines(tmp_path: Path) -> None:
    wrapped = "本报讯 11月7日上午，我市举\n行市委理论学习中心组学习（扩大）\n会议暨全面从严治党学习会议。市\n委书记祁海龙强调。"
    path = write_jsonl(tmp_path, [valid_record(body=wrapped)])
    assert [d["rule"] for d in diagnostics_of(path)].count("C101") == 1
    subheads = "一、坚持党建引领\n" + FIRST + "\n二、深化改革\n" + REST
    path = write_jsonl(tmp_path, [valid_record(body=subheads)])
    assert "C101" not in [d["rule"] for d in diagnostics_of(path)]


@pytest.mark.parametrize(
    "title", ["强交流 听意见 促发展", "持续深化推进清廉平湖建设 为新崛起之城提供坚强政治保证"]
)
def test_spaced_words_in_titles_are_the_papers_own(tmp_path: Path, title: str) -> None:
    path = write_md(tmp_path, valid_record(kicker=title))
    assert diagnostics_of(path, strict=True) == []


def test_stray_spaces_but_not_the_datelines() -> None:
    assert rules.remove_stray_gaps("一个记者节。11月 6日下午") == "一个记者节。11月6日下午"
    assert rules.remove_stray_gaps("本报讯 11月7日上午，我市 召开") == "本报讯 11月7日上午，我市 召开"
    assert rules.remove_stray_gaps("使用 iPhone 手机") == "使用 iPhone 手机"


def test_dateline_space_before_digits_is_fine() -> None:
    assert list(text.justified_spaces("本报讯 11月7日上午")) == []
    spaced = "省食 药 监 局"
    assert [spaced[g.start : g.end] for g in text.justified_spaces(spaced)] == ["食 ", "药 ", "监 "]


def test_doubled_two_line_title_is_undoubled() -> None:
    doubled = "持续深化推进清廉平湖建设持续深化推进清廉平湖建设 为新崛起之城提供坚强政治保证为新崛起之城提供坚强政治保证"
    assert rules.undouble_title(doubled) == "持续深化推进清廉平湖建设 为新崛起之城提供坚强政治保证"
    assert rules.undouble_title("努力续写更多“春天的故事”") is None
