"""The release format: a release records which files it carries; a new format is a minor step,
verify asks of each release the files of its own format, and stale or missing metadata files
are errors (R402, R414–R417)."""

from __future__ import annotations

import json
import shutil

import pytest

from builder.release import releases
from tests.conftest import ROOT, reseal

FORMAT_NOTE = (
    "Release format: 1 → 2 (adds croissant.json (Croissant 1.1), datapackage.json (Data Package v2) "
    "and the card's statistics plots under plots/)"
)


@pytest.fixture
def format_one(project):
    """A project whose only release is the committed 1.0.0, written in release format 1."""
    shutil.copytree(ROOT / "dist" / "zh-local-news" / "1.0.0", project.release("1.0.0"))
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    head, entries = text.split("\n## ", 1)[0], text.split("\n## ")[1:]
    kept = [e for e in entries if e.startswith("[1.0.0]")]
    project.changelog.write_text(head + "\n## " + "\n## ".join(kept), encoding="utf-8")
    return project


@pytest.fixture
def fresh(project):
    """A writable release 1.0.0 of the newest format."""
    assert project.build().exit_code == 0
    release = project.release("1.0.0")
    for path in release.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return release


def problems(newsset, release) -> list[tuple[str, str, int, str]]:
    result = newsset("verify", release, "--format", "json")
    found = json.loads(result.stdout)["diagnostics"]
    return [(d["rule"], d["file"].removeprefix(f"{release}/"), d["line"], d["message"]) for d in found]


def test_a_new_release_format_is_proposed_as_a_minor_version(format_one, newsset):
    old = format_one.release("1.0.0")
    before = {p: p.read_bytes() for p in old.rglob("*") if p.is_file()}
    assert format_one.build("--bump", "patch").exit_code == 1  # too small for a new format
    result = format_one.build()
    assert result.exit_code == 0, result.output
    assert [v for v, _ in releases(format_one.out / format_one.name)] == [(1, 0, 0), (1, 1, 0)]
    entry = format_one.changelog.read_text(encoding="utf-8").split("\n## ")[1]
    assert entry == (
        "[1.1.0] - 2020-11-09\n\n"
        "- 6 articles from 2020-11-09 to 2020-11-09 (was 6 in 1.0.0).\n"
        "- Added (0): none\n- Removed (0): none\n- Changed (0): none\n- Schema: unchanged\n"
        f"- {FORMAT_NOTE}\n"
    )
    assert {p: p.read_bytes() for p in old.rglob("*") if p.is_file()} == before
    new = format_one.release("1.1.0")
    assert (new / "croissant.json").is_file() and not (old / "croissant.json").exists()
    for release in (old, new):
        assert newsset("verify", release).exit_code == 0
    diff = newsset("diff", old, new)
    assert f"- {FORMAT_NOTE}\n" in diff.output
    assert diff.output.endswith("Change: minor (release format 1 → 2)\n")
    assert format_one.build("--check").exit_code == 0


def test_a_patch_is_refused_for_a_new_format(format_one):
    result = format_one.build("--bump", "patch")
    assert result.exit_code == 1
    assert (
        "this change is minor (release format 1 → 2), so 1.0.1 (patch) would hide it; use 1.1.0"
        in result.output
    )


def test_a_format_this_newsset_does_not_know_is_reported_and_not_built_upon(fresh, project, newsset):
    card = fresh / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("release_format: 2\n", "release_format: 3\n"))
    reseal(fresh)
    line = card.read_text(encoding="utf-8").split("\n").index("release_format: 3") + 1
    assert problems(newsset, fresh) == [
        ("R417", "README.md", line, "release_format: 3 is not a release format this newsset knows (1 to 2)")
    ]
    project.edit("pinghu-20201109-p01-05", "我市召开", "我市召开了")
    result = project.build()
    assert result.exit_code == 1
    assert (
        "its card records release format 3, which this newsset does not know (it knows 1 to 2); upgrade"
        in (result.output)
    )


def test_a_file_its_format_carries_is_required(fresh, newsset):
    (fresh / "croissant.json").unlink()
    reseal(fresh)
    assert problems(newsset, fresh) == [
        ("R402", "croissant.json", 1, "croissant.json is missing: release format 2 carries it")
    ]


def test_stale_croissant_and_datapackage_are_errors(fresh, newsset):
    path = fresh / "croissant.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"2020-11-09"', '"2020-11-10"'), encoding="utf-8"
    )
    package = fresh / "datapackage.json"
    doc = json.loads(package.read_text(encoding="utf-8"))
    doc["resources"][1]["bytes"] += 1
    doc["resources"][0]["schema"]["fields"][2]["type"] = "string"
    package.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    reseal(fresh)
    croissant_line = (
        path.read_text(encoding="utf-8").split("\n").index('  "datePublished": "2020-11-10",') + 1
    )
    resources_line = package.read_text(encoding="utf-8").split("\n").index('  "resources": [') + 1
    assert problems(newsset, fresh) == [
        ("R414", "croissant.json", croissant_line, 'datePublished: croissant.json says "2020-11-10", the files give "2020-11-09"'),
        ("R415", "datapackage.json", resources_line, 'resources[0].schema.fields[2].type: datapackage.json says "string", the files give "date"'),
    ]  # fmt: skip


def test_data_changed_behind_the_metadata_is_caught_by_each_file(fresh, newsset):
    jsonl = fresh / "data" / "train-00000-of-00001.jsonl"
    jsonl.write_text(jsonl.read_text(encoding="utf-8").replace("祁海龙", "祁海", 1), encoding="utf-8")
    reseal(fresh)
    found = {(rule, file) for rule, file, _, _ in problems(newsset, fresh)}
    assert found == {
        ("R404", "data/train-00000-of-00001.jsonl"),
        ("R414", "croissant.json"),
        ("R415", "datapackage.json"),
    }
    messages = [m for rule, _, _, m in problems(newsset, fresh) if rule in ("R414", "R415")]
    assert messages[0].startswith("distribution[1].contentSize: croissant.json says ")
    assert messages[1].startswith("resources[0].bytes: datapackage.json says ")


def test_a_plot_the_card_shows_must_be_there(fresh, newsset):
    (fresh / "plots" / "body-length.png").unlink()
    reseal(fresh)
    text = (fresh / "README.md").read_text(encoding="utf-8")
    line = text.split("\n").index("![Histogram of body lengths in characters](plots/body-length.png)") + 1
    assert problems(newsset, fresh) == [
        ("R416", "README.md", line, "the card links to plots/body-length.png, which the release lacks")
    ]
