"""Extraction on pages it has never seen: simulated layouts, OCR damage and arbitrary text."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import text
from builder.extract import MetaOptions, extract_page, extract_text, report, simulate
from builder.extract.assembly import UNPLACED
from builder.extract.metadata import PageMeta
from builder.validate import validate_paths

META = PageMeta("今日平湖", "pinghu", "2020-11-09", 1, "要闻")
seeds = st.integers(min_value=0, max_value=2**32 - 1)
columns = st.integers(min_value=8, max_value=20)


def assert_every_line_accounted(page_text: str) -> None:
    """Every non-blank line went into exactly one place, and not by the safety net."""
    extraction = extract_text(page_text, META)
    assert report.unaccounted(extraction.lines, extraction.accounting()) == []
    assert all(s.reason != UNPLACED for s in extraction.layout.unassigned)


@given(seed=seeds, articles=st.integers(min_value=1, max_value=6), column=columns)
@settings(max_examples=300)
def test_simulated_pages_give_back_their_articles(seed: int, articles: int, column: int) -> None:
    page = simulate.simulate(seed, articles=articles, column=column)
    extraction = extract_text(page.text, META)
    assert len(extraction.records) == len(page.articles)
    for record, article in zip(extraction.records, page.articles, strict=True):
        assert record.get("headline") == article.headline
        assert record.get("kicker") == article.kicker
        assert record.get("subheadline") == article.subheadline
        assert record.get("byline") == article.byline
        assert record["body"].split("\n") == list(article.paragraphs)
    assert sorted(g.text for g in extraction.layout.unattributed) == sorted(page.stray_bylines)
    assert sorted(s.line.stripped for s in extraction.layout.unassigned) == sorted(page.captions)
    assert_every_line_accounted(page.text)


@given(seed=seeds, column=columns)
@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
def test_drafts_of_simulated_pages_pass_validate(seed: int, column: int) -> None:
    page = simulate.simulate(seed, articles=3, column=column)
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "p01.txt"
        raw.write_text(page.text, encoding="utf-8")
        given = MetaOptions(source="今日平湖", slug="pinghu", date="2020-11-09", section="要闻")
        outcome = extract_page(raw, given, out=Path(folder) / "out")
        assert len(outcome.written) == 3
        result = validate_paths([Path(folder) / "out"])
        assert result.errors == 0, [d.message for d in result.diagnostics]


@given(seed=seeds, noise=seeds, articles=st.integers(min_value=1, max_value=4))
@settings(max_examples=150)
def test_ocr_damage_never_loses_a_line(seed: int, noise: int, articles: int) -> None:
    page = simulate.simulate(seed, articles=articles)
    damaged = simulate.ocr_noise(page.text, random.Random(noise))
    assert_every_line_accounted(damaged)
    extraction = extract_text(damaged, META)
    for record in extraction.records:
        assert "■" not in record["body"]
        assert "■" not in record.get("byline", "")


@given(seed=seeds)
@settings(max_examples=50)
def test_interleaved_columns_and_split_bylines(seed: int) -> None:
    page = simulate.simulate(seed, articles=2)
    lines = page.text.split("\n")
    half = len(lines) // 2
    damaged = simulate.split_bylines(simulate.interleave(lines[:half], lines[half:]))
    assert_every_line_accounted("\n".join(damaged))


PAGE_ALPHABET = st.sampled_from(
    list("本报讯记者通讯员摄影■□ 　。，、；：？！“”")
    + list("\"',.;:()（）第C01版下转四上接食药监局王强平湖今日0123456789ab\t")
)
page_lines = st.lists(st.text(PAGE_ALPHABET, max_size=40), max_size=60).map("\n".join)


@given(page_text=page_lines)
@settings(max_examples=300)
def test_arbitrary_page_text_never_crashes_and_loses_nothing(page_text: str) -> None:
    assert_every_line_accounted(page_text)


@given(page_text=st.text(max_size=300))
@settings(max_examples=200)
def test_any_unicode_never_crashes(page_text: str) -> None:
    assert_every_line_accounted(page_text)


# --- the simulator itself ------------------------------------------------------------------


@given(seed=seeds, column=columns)
@settings(max_examples=100)
def test_simulator_wraps_without_losing_text_or_breaking_print_rules(seed: int, column: int) -> None:
    rng = random.Random(seed)
    paragraph = simulate.paragraph(rng, column, dateline=rng.random() < 0.5)
    lines = simulate.wrap(paragraph, column, column - simulate.INDENT)
    assert text.join_wrapped(lines) == paragraph
    assert simulate.token_width(lines[0]) <= column - simulate.INDENT
    for line in lines:
        assert simulate.token_width(line) <= column
        assert line[0] not in simulate.NO_START
        assert line[-1] not in simulate.NO_END


def test_simulator_is_deterministic() -> None:
    assert simulate.simulate(7, articles=4).text == simulate.simulate(7, articles=4).text
