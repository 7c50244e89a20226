"""`newsset fix`: the safe fixes, in place, never changing a word."""

from __future__ import annotations

import json
import re
from pathlib import Path

from builder import sources
from tests.conftest import ARTICLES, RAW_PAGE, diagnostics_of, run, valid_record, write_jsonl, write_md
from tests.test_rules import md_with_body

RAW_LINES = RAW_PAGE.read_text(encoding="utf-8").split("\n")
SIDE_COLUMN = RAW_LINES[65:75]  # 会议还邀请… 食 药 监 局 … 作讲座。 as printed
REFERENCE = sources.read_path(ARTICLES / "2020/11/09/pinghu-20201109-p01-01.md").sources[0]


def letters(text: str) -> str:
    """The words of a text: everything but whitespace and punctuation."""
    return re.sub(r"[\s\W]", "", text)


def test_fix_cleans_a_raw_paragraph_to_the_reference(tmp_path: Path) -> None:
    first = REFERENCE.paragraphs[0].text
    path = md_with_body(tmp_path, first + "\n\n" + "\n".join(SIDE_COLUMN))
    before = path.read_text(encoding="utf-8")
    assert {d["rule"] for d in diagnostics_of(path)} >= {"C101", "C201"}
    result = run("fix", path)
    assert result.exit_code == 0
    assert f"{path}:14  C101  fixed: joined 10 hard-wrapped lines" in result.stdout
    assert f"{path}:14  C201  fixed: body: removed spaces between CJK characters" in result.stdout
    assert "1 file changed." in result.stderr
    fixed = sources.read_path(path).sources[0].data["body"]
    assert fixed.split("\n")[1] == REFERENCE.paragraphs[-1].text
    assert letters(fixed) == letters(before.split("---\n", 2)[2])
    assert diagnostics_of(path, strict=True) == []


def test_fix_makes_punctuation_full_width_and_nfc(tmp_path: Path) -> None:
    body = valid_record()["body"] + '\n王道平提出三点希望：要完善“大联动"机制,加强联动。11月 6日下午开会。'
    path = write_md(tmp_path, valid_record(body=body, headline="平湖\uf900记者节"))
    run("fix", path)
    data = sources.read_path(path).sources[0].data
    assert data["body"].endswith("要完善“大联动”机制，加强联动。11月6日下午开会。")
    assert data["body"].startswith("本报讯 昨天是")  # the dateline keeps its space
    assert data["headline"] == "平湖\u8c48记者节"
    assert diagnostics_of(path, strict=True) == []


def test_check_reports_without_writing(tmp_path: Path) -> None:
    path = md_with_body(tmp_path, "本报讯 第一行\n第二行接着写完。")
    before = path.read_bytes()
    result = run("fix", "--check", path)
    assert result.exit_code == 1
    assert "would fix: joined 2 hard-wrapped lines" in result.stdout
    assert path.read_bytes() == before


def test_clean_corpus_needs_no_fix() -> None:
    result = run("fix", "--check", ARTICLES)
    assert result.exit_code == 0
    assert result.stdout == ""


def test_fix_joins_a_hard_wrapped_jsonl_body(tmp_path: Path) -> None:
    # Lines 3-10 of the page: the first sentence of the first paragraph, as printed. (Within JSONL
    # a line ending in 。 is taken as a paragraph end: the rule is an error, so it stays cautious.)
    wrapped = "\n".join(RAW_LINES[2:10])
    path = write_jsonl(tmp_path, [valid_record(body=wrapped + "\n" + REFERENCE.paragraphs[1].text)])
    run("fix", path)
    (record,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    first, second = record["body"].split("\n")
    assert REFERENCE.paragraphs[0].text.startswith(first) and first.endswith("提供坚强的政治保证。")
    assert second == REFERENCE.paragraphs[1].text


def test_unreadable_files_are_skipped_and_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_bytes("正文".encode("gb18030"))
    result = run("fix", bad)
    assert result.exit_code == 0
    assert f"{bad}: skipped" in result.stderr
    assert bad.read_bytes() == "正文".encode("gb18030")
