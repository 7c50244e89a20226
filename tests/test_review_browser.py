"""The review page driven in headless Chromium (Debian's, through Playwright), as a person uses it.

Screenshots of each step are kept in tests/artifacts/review/ (ignored by git) for a person to
look at. Without Chromium or Playwright the tests are skipped, except under CI=true, where
.ci/run installs the browser and a missing one is a failure. NEWSSET_CHROMIUM names another
Chromium binary.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder import sources
from builder.extract import extract_text
from builder.extract.metadata import resolve
from builder.validate import validate_paths
from tests.conftest import RAW_PAGE, REPO

CHROMIUM = os.environ.get("NEWSSET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "tests" / "artifacts" / "review"
DAY = Path("2020/11/09")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import flask  # noqa: F401
    except ImportError:
        return "Flask is not installed (pip install -e '.[review]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"browser tests cannot run in CI: {reason}; .ci/run must install it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def review(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """(url, page, articles folder): a server on a free loopback port for a copy of the seed page."""
    from builder.review import open_session
    from builder.review.server import ReviewServer

    page = tmp_path / "raw" / "p01.txt"
    page.parent.mkdir()
    shutil.copyfile(RAW_PAGE, page)
    shutil.copyfile(RAW_PAGE.with_suffix(".json"), page.with_suffix(".json"))
    articles = tmp_path / "articles"
    server = ReviewServer(open_session(page, articles)).start()
    try:
        yield server.url, page, articles
    finally:
        server.stop()


@pytest.fixture
def tab(browser: object, review: tuple[str, Path, Path]) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda err: problems.append(str(err)))
    tab.on("console", lambda msg: problems.append(msg.text) if unexpected(msg) else None)
    tab.goto(review[0])
    yield tab
    context.close()
    assert problems == []


def unexpected(message: object) -> bool:
    """A console error other than the answers the page expects (409 conflict, 422 refused)."""
    text = message.text  # type: ignore[attr-defined]
    expected = any(f"status of {code}" in text for code in (409, 422))
    return message.type == "error" and not expected  # type: ignore[attr-defined]


def shot(tab: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / name))  # type: ignore[attr-defined]


def card(tab: object, key: int) -> object:
    return tab.locator(f'.card[data-key="{key}"]')  # type: ignore[attr-defined]


def test_assign_a_byline_fix_a_headline_and_save(tab, review) -> None:
    from playwright.sync_api import expect

    _url, page, articles = review
    expect(tab.locator(".card")).to_have_count(6)
    expect(tab.locator("#line-76")).to_have_attribute("data-role", "unattributed byline")
    shot(tab, "01-loaded.png")

    # Assign the unattributed byline on line 76 to article 03.
    tab.click("#line-76")
    expect(tab.locator("#selection")).to_have_text("Selected: line 76 (1)")
    tab.select_option("#target", "3")
    tab.click("#assign-byline")
    expect(card(tab, 3).locator('input[name="byline"]')).to_have_value("记者 冯思家")
    expect(tab.locator("#line-76 .tag")).to_have_text("03 byline")

    # Clear article 06's headline: the error shows at once and a final save is refused.
    headline = card(tab, 6).locator('input[name="headline"]')
    headline.fill("")
    expect(card(tab, 6).locator(".diagnostics")).to_contain_text("missing required field 'headline'")
    expect(headline).to_have_class("has-error")
    expect(tab.locator("#save")).to_be_disabled()
    card(tab, 6).scroll_into_view_if_needed()
    shot(tab, "02-headline-error.png")

    # Type the corrected headline: the diagnostics clear and the card is marked edited.
    headline.fill("市社会矛盾纠纷多元化解联合会成立大会")
    expect(card(tab, 6).locator(".check")).to_have_text("valid")
    expect(card(tab, 6).locator('label[for="f-6-headline"] .edited')).to_have_text(" (edited)")
    expect(tab.locator("#save")).to_be_enabled()
    tab.click("#save")
    expect(tab.locator("#status")).to_have_text("wrote 6 files")
    shot(tab, "03-saved.png")

    saved = {}
    for name in sources.iter_article_files([articles]):
        (src,) = sources.read_path(name).sources
        saved[src.record_id] = src.data
    extracted = extract_text(page.read_text(encoding="utf-8"), resolve(page), str(page)).records
    expected = {rec["id"]: dict(rec) for rec in extracted}
    expected["pinghu-20201109-p01-03"]["byline"] = "记者 冯思家"
    expected["pinghu-20201109-p01-06"]["headline"] = "市社会矛盾纠纷多元化解联合会成立大会"
    assert saved == expected
    report = validate_paths([articles])
    assert (report.files, report.errors, report.warnings) == (6, 0, 0)


def test_split_undo_and_a_conflict_offered_for_reload(tab, review) -> None:
    from playwright.sync_api import expect

    _url, _page, articles = review
    tab.click("#save")
    expect(tab.locator("#status")).to_have_text("wrote 6 files")

    # Split article 02 at line 107, then undo with the keyboard.
    tab.click("#line-107")
    tab.click("#split")
    expect(tab.locator(".card")).to_have_count(7)
    expect(card(tab, 7).locator(".check")).to_have_text("1 error")
    card(tab, 7).scroll_into_view_if_needed()
    shot(tab, "04-split.png")
    tab.keyboard.press("Control+z")
    expect(tab.locator(".card")).to_have_count(6)

    # Mark the caption on line 336 as article 04's kicker; drop a range of lines; undo both.
    tab.click("#line-336")
    tab.select_option("#target", "4")
    tab.click('button.mark[data-role="kicker"]')
    expect(card(tab, 4).locator('input[name="kicker"]')).to_have_value("今平湖客户端")
    body = card(tab, 2).locator("textarea")
    expect(body).to_have_value(re.compile("进行了表彰。$"))
    tab.click("#line-161")
    tab.click("#line-163", modifiers=["Shift"])
    expect(tab.locator("#selection")).to_have_text("Selected: lines 161–163 (3)")
    tab.click("#drop")
    expect(tab.locator("#line-162")).to_have_attribute("data-role", "unassigned")
    expect(body).to_have_value(re.compile("建设注入强劲动力。$"))
    tab.click("#undo")
    tab.click("#undo")
    expect(card(tab, 4).locator('input[name="kicker"]')).to_have_value("")
    expect(tab.locator("#line-162")).to_have_attribute("data-role", "body")
    expect(body).to_have_value(re.compile("进行了表彰。$"))
    expect(tab.locator("#undo")).to_be_disabled()

    # Someone changes a file on disk; saving over it is refused and reload is offered.
    changed = articles / DAY / "pinghu-20201109-p01-02.md"
    changed.write_text(
        changed.read_text(encoding="utf-8").replace("section: 要闻", "section: 综合"), encoding="utf-8"
    )
    tab.click("#line-76")
    tab.select_option("#target", "3")
    tab.click("#assign-byline")
    tab.click("#save")
    expect(tab.locator("#conflict")).to_be_visible()
    expect(tab.locator("#conflict-text")).to_contain_text("pinghu-20201109-p01-02.md")
    shot(tab, "05-conflict.png")
    assert "section: 综合" in changed.read_text(encoding="utf-8")

    tab.once("dialog", lambda dialog: dialog.accept())
    tab.click("#reload")
    expect(tab.locator("#conflict")).to_be_hidden()
    expect(card(tab, 2).locator('input[name="section"]')).to_have_value("综合")
    expect(card(tab, 3).locator('input[name="byline"]')).to_have_value("")
