"""The extractor's small rules, each on the kind of line or page it exists for."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder import bylines, rules, sources, text
from builder.extract import extract_text, simulate
from builder.extract.lines import (
    BYLINE,
    DATELINE,
    DOUBLED,
    HEADER,
    JUMP,
    TEXT,
    classify,
    kind_of,
    print_width,
)
from builder.extract.metadata import MetadataError, MetaOptions, PageMeta, resolve
from builder.validate import validate_paths

META = PageMeta("今日平湖", "pinghu", "2020-11-09", 1, "要闻")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("第C01版:今日平湖报", HEADER),
        ("2020年11月9日 星期一", HEADER),
        ("(下转第四版)", JUMP),
        ("（上接第1版）", JUMP),
        (" ■记者 胡佳英", BYLINE),
        ("■记 者 华婷婷", BYLINE),
        ("通讯员 倪春军 凌真烈", BYLINE),
        ("摄影 王 强", BYLINE),
        ("本报讯 11月7日上午，我市举", DATELINE),
        ("持续深化推进清廉平湖建设持续深化推进清廉平湖建设", DOUBLED),
        ("食 药 监 局", TEXT),
        ("今平湖客户端", TEXT),
        ("强交流 听意见 促发展", TEXT),
    ],
)
def test_line_classes(line: str, kind: str) -> None:
    assert kind_of(line) == kind


def test_lines_are_numbered_as_an_editor_shows_them() -> None:
    lines = classify("a\r\n\nb\n")
    assert [(line.number, line.text) for line in lines] == [(1, "a"), (2, ""), (3, "b")]


def test_print_width_counts_punctuation_half() -> None:
    assert print_width("清廉平湖建设，为打造“重要窗口”") == 13 + 3 * 0.5
    assert print_width("本报讯 11月7日") == 5 + 4 * 0.5


def test_stray_spaces_are_the_pdfs_not_the_papers() -> None:
    assert text.remove_stray_spaces("一个记者节。11月 6日下午") == "一个记者节。11月6日下午"
    assert text.remove_stray_spaces("当天，还对 2019-2020年度平湖") == "当天，还对2019-2020年度平湖"
    assert text.remove_stray_spaces("完成了 。下一步") == "完成了。下一步"
    assert text.remove_stray_spaces("使用 iPhone 手机") == "使用 iPhone 手机"
    assert text.remove_stray_spaces("强交流 听意见 促发展") == "强交流 听意见 促发展"


def test_ends_paragraph_is_stricter_than_ends_sentence() -> None:
    assert text.ends_sentence("我市召开“十四五”") and not text.ends_paragraph("我市召开“十四五”")
    assert text.ends_paragraph("不用我提醒，每次检查大家都做得很好。”")
    assert text.ends_paragraph("了表彰。") and not text.ends_paragraph("规划企业家座谈会")


def test_dateline_and_multi_line_bylines() -> None:
    assert bylines.dateline("本报讯 昨天是全国第二十") == "本报讯"
    assert bylines.dateline("新华社北京11月8日电 记者") == "新华社北京11月8日电"
    assert bylines.dateline("本报记者") is None
    assert bylines.canonical_lines(["■记者 李雨婷", "摄影 王 强"]) == "记者 李雨婷 摄影 王强"


def page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


BODY = (
    "本报讯 11月7日下午，平湖市",
    "委与市各民主党派组织专题民主协",
    "商会召开，围绕“助推县域社会治理",
    "现代化建设”与市各民主党派开展",
    "协商交流。",
)


def test_byline_split_over_two_lines_is_joined_and_attributed() -> None:
    extraction = extract_text(page("■记者", "胡佳英", "", *BODY, "", "市委召开民主协商会"), META)
    (record,) = extraction.records
    assert record["byline"] == "记者 胡佳英"
    assert record["headline"] == "市委召开民主协商会"


def test_byline_not_directly_before_a_body_is_reported_not_guessed() -> None:
    extraction = extract_text(page(*BODY, "", "市委召开民主协商会", "■记者 冯思家", "", "■记者 金睿敏"), META)
    (record,) = extraction.records
    assert "byline" not in record
    assert [g.text for g in extraction.layout.unattributed] == ["记者 冯思家", "记者 金睿敏"]


def test_headers_and_jump_markers_are_reported_and_kept_out_of_the_body() -> None:
    extraction = extract_text(
        page("第C01版:今日平湖报", *BODY[:3], "(下转第四版)", *BODY[3:], "", "市委召开民主协商会"), META
    )
    (record,) = extraction.records
    assert "版" not in record["body"] and "下转" not in record["body"]
    assert record["body"].endswith("与市各民主党派开展协商交流。")
    assert [(s.line.number, s.reason) for s in extraction.layout.unassigned] == [
        (1, "page header"),
        (5, "jump marker"),
    ]
    reasons = extraction.review["articles"][0]["reasons"]
    assert any("jump marker on line 5" in r for r in reasons)


def test_halfwidth_punctuation_is_made_fullwidth() -> None:
    lines = [line.replace("，", ",").replace("“", '"').replace("”", '"') for line in BODY]
    (record,) = extract_text(page(*lines, "", "市委召开民主协商会"), META).records
    assert record["body"] == text.join_wrapped(BODY)


def test_kicker_with_spaced_phrases_and_wrapped_headline() -> None:
    (record,) = extract_text(
        page(*BODY, "", "强交流 听意见 促发展", "", "我市召开“十四五”", "规划企业家座谈会"), META
    ).records
    assert record["kicker"] == "强交流 听意见 促发展"
    assert record["headline"] == "我市召开“十四五”规划企业家座谈会"


def test_article_without_a_title_is_flagged_for_a_person() -> None:
    extraction = extract_text(page(*BODY), META)
    (record,) = extraction.records
    assert "headline" not in record
    (article,) = extraction.review["articles"]
    assert "no headline found: a person must add it" in article["reasons"]
    assert article["confidence"] <= 0.5


def test_what_validate_flags_in_the_raw_page_extract_removes(repo: Path) -> None:
    """One definition: the rules find the layout artefacts of the raw text, and none in the drafts."""
    raw = (repo / "raw/pinghu/2020/11/09/p01.txt").read_text(encoding="utf-8")
    assert any(True for _ in text.justified_spaces(raw))
    assert any(True for _ in text.halfwidth_punctuation(raw))
    extraction = extract_text(raw, resolve(repo / "raw/pinghu/2020/11/09/p01.txt"))
    for record in extraction.records:
        src = sources.Source("draft.jsonl", 1, record, format="jsonl")  # paragraphs: the body's lines
        assert [d.rule for d in rules.check(src)] == []


def test_the_reference_corpus_still_validates(repo: Path) -> None:
    report = validate_paths([repo / "articles"])
    assert (report.records, report.errors, report.warnings) == (6, 0, 0)


def test_sidecar_metadata(repo: Path) -> None:
    meta = resolve(repo / "raw/pinghu/2020/11/09/p01.txt")
    assert meta == PageMeta("今日平湖", "pinghu", "2020-11-09", 1, "要闻")
    assert meta.article_id(3) == "pinghu-20201109-p01-03"
    with pytest.raises(MetadataError, match="YYYY-MM-DD"):
        resolve(repo / "raw/pinghu/2020/11/09/p01.txt", MetaOptions(date="9 Nov 2020"))


def test_body_without_a_dateline_after_a_byline(repo: Path) -> None:
    (reference,) = sources.read_path(repo / "articles/2020/11/09/pinghu-20201109-p01-03.md").sources
    paragraphs = [p.text for p in reference.paragraphs[1:3]]
    lines = ["■记者 居丹荔", ""]
    for para in paragraphs:
        lines += [*simulate.wrap(para, 15, 13), ""]
    extraction = extract_text(page(*lines, "市委与市各民主党派组织专题民主协商会召开"), META)
    (record,) = extraction.records
    assert record["body"].split("\n") == paragraphs
    assert record["byline"] == "记者 居丹荔"
    assert record["headline"] == "市委与市各民主党派组织专题民主协商会召开"
    (article,) = extraction.review["articles"]
    assert article["reasons"][0] == "no dateline: the body is taken to start on line 3; check it"
    assert article["confidence"] == 0.7
