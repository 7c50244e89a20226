"""The review's correction model on the seed page: each correction a pure function, no browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.extract import Extraction, extract_text
from builder.extract.metadata import PageMeta
from builder.extract.report import UNASSIGNED, UNATTRIBUTED
from builder.review import draft as model
from builder.review.draft import CorrectionError, Draft, Page, Place
from builder.validate import validate_record

SEED = Path(__file__).resolve().parent.parent / "raw/pinghu/2020/11/09/p01.txt"
META = PageMeta("今日平湖", "pinghu", "2020-11-09", 1, "要闻")


@pytest.fixture(scope="module")
def extraction() -> Extraction:
    return extract_text(SEED.read_text(encoding="utf-8"), META, "p01.txt")


@pytest.fixture(scope="module")
def seed(extraction: Extraction) -> tuple[Page, Draft]:
    return model.from_extraction(extraction)


def by_id(page: Page, draft: Draft) -> dict[str, dict]:
    return {rec["id"][-2:]: rec for _key, rec in model.records(page, draft)}


def test_line_uses_give_every_non_blank_line_one_place(extraction: Extraction) -> None:
    uses = extraction.line_uses()
    numbers = [use.line for use in uses]
    assert numbers == sorted(set(numbers))
    assert set(numbers) == {line.number for line in extraction.lines if line.kind != "blank"}
    first = {use.line: use for use in uses}
    assert (first[1].article, first[1].role) == (1, "byline")
    assert (first[3].article, first[3].role) == (1, "body")
    assert [(first[n].article, first[n].role) for n in (168, 169, 171, 172)] == [
        (1, "kicker"),
        (1, "kicker"),
        (1, "headline"),
        (1, "headline"),
    ]
    assert (first[165].article, first[165].role, first[166].role) == (2, "headline", "subheadline")
    assert (first[76].article, first[76].role) == (None, UNATTRIBUTED)
    assert (first[336].article, first[336].role, first[336].reason) == (None, UNASSIGNED, "caption or logo")


def test_uncorrected_draft_gives_exactly_the_extracted_records(extraction: Extraction, seed) -> None:
    page, draft = seed
    assert [rec for _key, rec in model.records(page, draft)] == extraction.records
    assert draft.articles() == [1, 2, 3, 4, 5, 6]


def test_assign_the_unattributed_byline(seed) -> None:
    page, draft = seed
    after = model.assign_byline(page, draft, 76, 3)
    records = by_id(page, after)
    assert records["03"]["byline"] == "记者 冯思家"
    assert after.places[76] == Place(3, "byline")
    assert draft.places[76] == Place(None, UNATTRIBUTED)  # the old draft is untouched
    assert validate_record(records["03"]) == []
    # Given to another article, it leaves the first; that article's own byline is set free.
    again = model.assign_byline(page, after, 76, 2)
    assert "byline" not in by_id(page, again)["03"]
    assert by_id(page, again)["02"]["byline"] == "记者 冯思家"
    assert again.places[78] == again.places[79] == Place(None, UNATTRIBUTED)


def test_a_multi_line_byline_goes_as_one(seed) -> None:
    page, draft = seed
    after = model.assign_byline(page, draft, 463, 6)
    assert by_id(page, after)["06"]["byline"] == "记者 华婷婷 通讯员 倪春军 凌真烈"
    assert after.lines_of(6, "byline") == [462, 463]


def test_assign_byline_refuses_a_body_line(seed) -> None:
    page, draft = seed
    with pytest.raises(CorrectionError, match="line 3 is not a byline"):
        model.assign_byline(page, draft, 3, 2)
    with pytest.raises(CorrectionError, match="no article 9"):
        model.assign_byline(page, draft, 76, 9)


def test_mark_a_line_as_headline_replaces_the_old_one(seed) -> None:
    page, draft = seed
    # The extractor read 今平湖客户端 (line 336) as a caption; make it article 04's kicker.
    after = model.mark(page, draft, [336], 4, "kicker")
    assert by_id(page, after)["04"]["kicker"] == "今平湖客户端"
    # Marking line 334 and 336 as the headline: the kicker line moves into the headline.
    both = model.mark(page, after, [334, 336], 4, "headline")
    assert by_id(page, both)["04"]["headline"] == "曹桥“智能”力量提质垃圾分类今平湖客户端"
    assert "kicker" not in by_id(page, both)["04"]
    # A headline replaced by another line goes to no article, with the reason.
    swapped = model.mark(page, draft, [336], 4, "headline")
    assert by_id(page, swapped)["04"]["headline"] == "今平湖客户端"
    assert swapped.places[334] == Place(None, UNASSIGNED, "was the headline, replaced in review")
    with pytest.raises(CorrectionError, match="not 'body'"):
        model.mark(page, draft, [336], 4, "body")


def test_doubled_title_lines_marked_by_hand_are_undoubled(seed) -> None:
    page, draft = seed
    after = model.mark(page, draft, [171], 1, "headline")
    assert by_id(page, after)["01"]["headline"] == "持续深化推进清廉平湖建设"


def test_move_lines_between_articles_and_out(seed) -> None:
    page, draft = seed
    moved = model.move_lines(page, draft, [161, 162, 163], 3)
    records = by_id(page, moved)
    assert records["02"]["body"].endswith("为“智慧政务”“智慧城市”建设注入强劲动力。")
    # A body's lines are read in page order: the moved lines come first.
    assert records["03"]["body"].startswith(
        "当天，还对2019-2020年度平湖市“好记者、好作品、好栏目”进行了表彰。\n本报讯 11月7日下午"
    )
    gone = model.move_lines(page, draft, [161, 162, 163], None)
    assert all(gone.places[n] == Place(None, UNASSIGNED, model.REMOVED) for n in (161, 162, 163))
    assert "表彰" not in by_id(page, gone)["02"]["body"]
    # A title line keeps its field; an unattributed byline becomes one.
    title = model.move_lines(page, draft, [256, 76], 6)
    assert title.places[256] == Place(6, "headline") and title.places[76] == Place(6, "byline")
    with pytest.raises(CorrectionError, match="line 2 is blank"):
        model.move_lines(page, draft, [2], 1)
    with pytest.raises(CorrectionError, match="no line selected"):
        model.move_lines(page, draft, [], 1)


def test_split_then_merge_gives_the_article_back(seed) -> None:
    page, draft = seed
    split = model.split(page, draft, 2, 107)
    records = list(by_id(page, split).values())
    assert [r["id"][-2:] for r in records] == ["01", "02", "03", "04", "05", "06", "07"]
    assert records[1]["body"].endswith("为全市经济社会发展提供了强有力的舆论支持。")
    assert records[2]["body"].startswith("当天上线的“今平湖”客户端")
    assert "headline" not in records[2]
    assert [d.rule for d in validate_record(records[2])] == ["S001"]  # a person must give it a headline
    assert split.lines_of(7) == [n for n in draft.lines_of(2, "body") if n >= 107]
    merged = model.merge(page, split, 2, 7)
    assert model.records(page, merged) == model.records(page, draft)
    with pytest.raises(CorrectionError, match="first line of the body"):
        model.split(page, draft, 2, 81)
    with pytest.raises(CorrectionError, match="not in the body"):
        model.split(page, draft, 2, 3)


def test_merge_keeps_the_first_articles_title(seed) -> None:
    page, draft = seed
    merged = model.merge(page, draft, 5, 6)
    records = by_id(page, merged)
    assert len(records) == 5
    assert records["05"]["headline"] == "我市召开“十四五”规划企业家座谈会"
    assert records["05"]["body"].endswith("选举产生了第一届联合会理事会理事、会长、副会长和秘书长。")
    assert merged.places[457] == Place(None, UNASSIGNED, "was the headline of a merged article")
    with pytest.raises(CorrectionError, match="itself"):
        model.merge(page, draft, 5, 5)


def test_edits_override_and_give_way_to_line_changes(seed) -> None:
    page, draft = seed
    edited = model.edit_field(page, draft, 6, "headline", "市社会矛盾纠纷多元化解联合会成立大会")
    assert by_id(page, edited)["06"]["headline"] == "市社会矛盾纠纷多元化解联合会成立大会"
    # Typing the value the lines give drops the edit; an empty value removes the field.
    assert model.edit_field(page, edited, 6, "headline", "市社会矛盾纠纷多元化解联合会成立") == draft
    cleared = model.edit_field(page, draft, 6, "headline", "")
    assert "headline" not in by_id(page, cleared)["06"]
    assert [d.rule for d in validate_record(by_id(page, cleared)["06"])] == ["S001"]
    # The body is one paragraph a line; blank lines between are for the eye only.
    body = model.edit_field(page, draft, 3, "body", "本报讯 第一段。\n\n第二段。\n")
    assert by_id(page, body)["03"]["body"] == "本报讯 第一段。\n第二段。"
    # Moving a line into the headline replaces the typed headline; the typed section stays.
    both = model.edit_field(page, edited, 6, "section", "综合")
    remarked = model.mark(page, both, [457], 6, "headline")
    assert by_id(page, remarked)["06"]["headline"] == "市社会矛盾纠纷多元化解"
    assert by_id(page, remarked)["06"]["section"] == "综合"
    with pytest.raises(CorrectionError, match="'id' cannot be edited"):
        model.edit_field(page, draft, 6, "id", "x")
