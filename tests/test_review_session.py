"""A review session on a copy of the seed page: saving, refusing, conflicts, undo, safe paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builder import sources
from builder.extract import MetadataError
from builder.review import CorrectionError, SaveConflict, SaveRefused, open_session
from builder.review.session import safe_path
from builder.validate import validate_paths
from tests.conftest import RAW_PAGE, run

DAY = Path("2020/11/09")
IDS = [f"pinghu-20201109-p01-0{n}" for n in range(1, 7)]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    """The seed page and its sidecar, copied where the test may change them."""
    target = tmp_path / "raw" / "p01.txt"
    target.parent.mkdir()
    shutil.copyfile(RAW_PAGE, target)
    shutil.copyfile(RAW_PAGE.with_suffix(".json"), target.with_suffix(".json"))
    return target


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    return tmp_path / "articles"


def read(folder: Path) -> dict[str, dict]:
    found = {}
    for name in sources.iter_article_files([folder]):
        (src,) = sources.read_path(name).sources
        found[src.record_id] = src.data
    return found


def test_saving_an_uncorrected_review_writes_exactly_what_extract_writes(
    page: Path, articles: Path, tmp_path: Path
) -> None:
    session = open_session(page, articles)
    result = session.save()
    assert [p.name for p in result.written] == [f"{i}.md" for i in IDS]
    extracted = tmp_path / "extracted"
    assert run("extract", page, "-o", extracted).exit_code == 0
    for record_id in IDS:
        assert (articles / DAY / f"{record_id}.md").read_bytes() == (
            extracted / DAY / f"{record_id}.md"
        ).read_bytes()
    again = session.save()
    assert again.written == [] and len(again.unchanged) == 6


def test_corrections_are_saved_and_validate(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    session.apply("assign_byline", {"line": 76, "article": 3})
    session.apply(
        "edit", {"article": 6, "field": "headline", "value": "市社会矛盾纠纷多元化解联合会成立大会"}
    )
    session.save()
    saved = read(articles)
    assert saved[IDS[2]]["byline"] == "记者 冯思家"
    assert saved[IDS[5]]["headline"] == "市社会矛盾纠纷多元化解联合会成立大会"
    report = validate_paths([articles])
    assert (report.records, report.errors, report.warnings) == (6, 0, 0)


def test_errors_refuse_a_save_unless_it_is_a_draft(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    session.apply("edit", {"article": 6, "field": "headline", "value": ""})
    view = session.view()
    assert view["errors"] == 1
    assert view["articles"][5]["diagnostics"][0]["rule"] == "S001"
    with pytest.raises(SaveRefused, match="1 error remain"):
        session.save()
    assert not articles.exists()
    result = session.save(as_draft=True)
    assert len(result.written) == 6 and "saved as a draft with 1 error" in result.message()
    assert "headline" not in read(articles)[IDS[5]]
    assert [d.rule for d in validate_paths([articles]).diagnostics] == ["S001"]


def test_a_file_changed_on_disk_is_never_overwritten(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    session.save()
    changed = articles / DAY / f"{IDS[1]}.md"
    text = changed.read_text(encoding="utf-8").replace("努力续写更多", "努力续写更多更多")
    changed.write_text(text, encoding="utf-8")
    other = (articles / DAY / f"{IDS[2]}.md").read_bytes()
    session.apply("assign_byline", {"line": 76, "article": 3})
    with pytest.raises(SaveConflict, match=f"changed on disk.*{IDS[1]}.md.*Reload"):
        session.save()
    assert changed.read_text(encoding="utf-8") == text
    assert (articles / DAY / f"{IDS[2]}.md").read_bytes() == other  # nothing was written
    # Reloading starts again from the files: the edit made on disk shows as an edit.
    session.reload()
    assert session.view()["articles"][1]["record"]["headline"] == "努力续写更多更多“春天的故事”"
    assert session.view()["articles"][1]["edited"] == ["headline"]
    assert "byline" not in session.view()["articles"][2]["record"]
    assert session.save().written == []


def test_a_file_created_since_loading_is_not_overwritten(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    target = articles / DAY / f"{IDS[0]}.md"
    target.parent.mkdir(parents=True)
    target.write_text("someone else's\n", encoding="utf-8")
    with pytest.raises(SaveConflict):
        session.save()
    assert target.read_text(encoding="utf-8") == "someone else's\n"


def test_drafts_on_disk_are_loaded_with_their_edits(page: Path, articles: Path) -> None:
    open_session(page, articles).save()
    path = articles / DAY / f"{IDS[3]}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("section: 要闻", "section: 综合"), encoding="utf-8"
    )
    session = open_session(page, articles)
    assert session.notices == [f"{IDS[3]}: kept the file's section (edited since extraction)"]
    assert session.view()["articles"][3]["record"]["section"] == "综合"
    session.apply("assign_byline", {"line": 76, "article": 3})
    session.save()
    assert read(articles)[IDS[3]]["section"] == "综合"


def test_merge_removes_the_file_of_the_article_merged_away(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    session.save()
    session.apply("merge", {"article": 5, "other": 6})
    result = session.save()
    assert [p.name for p in result.removed] == [f"{IDS[5]}.md"]
    assert sorted(read(articles)) == IDS[:5]


def test_files_that_are_not_the_reviews_are_left_alone(page: Path, articles: Path) -> None:
    foreign = articles / DAY / "pinghu-20201109-p01-07.md"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("---\nbroken\n", encoding="utf-8")
    broken = articles / DAY / f"{IDS[0]}.md"
    broken.write_text("not an article\n", encoding="utf-8")
    session = open_session(page, articles)
    assert session.notices == [
        f"{IDS[0]}.md cannot be read (newsset validate says why): it will not be saved over",
        "pinghu-20201109-p01-07.md is on disk but not an article of this review: left alone",
    ]
    session.apply("split", {"article": 2, "line": 107})
    session.apply("edit", {"article": 7, "field": "headline", "value": "今平湖客户端上线"})
    with pytest.raises(SaveConflict, match="not saved over") as err:
        session.save()
    assert sorted(p.name for p in err.value.paths) == [f"{IDS[0]}.md", "pinghu-20201109-p01-07.md"]
    assert foreign.read_text(encoding="utf-8") == "---\nbroken\n"
    assert broken.read_text(encoding="utf-8") == "not an article\n"


def test_undo_steps_back_one_correction_and_one_run_of_typing(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    start = session.draft
    session.apply("assign_byline", {"line": 76, "article": 3})
    assigned = session.draft
    for value in ("市", "市社", "市社会"):
        session.apply("edit", {"article": 6, "field": "headline", "value": value})
    assert session.view()["articles"][5]["record"]["headline"] == "市社会"
    assert session.undo() and session.draft == assigned
    assert session.undo() and session.draft == start
    assert not session.undo()
    assert not session.view()["can_undo"]


def test_corrections_from_the_page_are_checked(page: Path, articles: Path) -> None:
    session = open_session(page, articles)
    for name, args, message in [
        ("delete_everything", {}, "unknown correction"),
        ("move", {"lines": "1-3", "article": 1}, "list of line numbers"),
        ("move", {"lines": [True], "article": 1}, "list of line numbers"),
        ("split", {"article": "2", "line": 107}, "'article' must be a whole number"),
        ("edit", {"article": 1, "field": "headline", "value": 5}, "'value' must be text"),
        ("edit", {"article": 1, "field": "id", "value": "../../x"}, "'id' cannot be edited"),
        ("move", {"lines": [99999], "article": 1}, "not on the page"),
    ]:
        with pytest.raises(CorrectionError, match=message):
            session.apply(name, args)
    assert not session.view()["can_undo"]


def test_no_path_outside_the_articles_folder(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    good = {"id": "pinghu-20201109-p01-01", "date": "2020-11-09"}
    assert safe_path(root, good) == (root / DAY / "pinghu-20201109-p01-01.md").resolve()
    for bad in (
        {"id": "../../../etc/x-20201109-p01-01", "date": "2020-11-09"},
        {"id": "pinghu-20201109-p01-01", "date": "../../.."},
        {"id": "pinghu-20201109-p01-01/../../x", "date": "2020-11-09"},
    ):
        with pytest.raises(ValueError, match="refusing"):
            safe_path(root, bad)


def test_a_page_without_metadata_is_refused(tmp_path: Path, articles: Path) -> None:
    bare = tmp_path / "page.txt"
    shutil.copyfile(RAW_PAGE, bare)
    with pytest.raises(MetadataError, match="no publication name"):
        open_session(bare, articles)
