"""Releases: immutability, an interrupted build, verify, diff, --bump and the changelog."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builder import diff, schema
from builder.diff import compare, compare_schemas
from builder.release import ReleaseError, checksums, choose_version, parse_version, releases

ROOT = Path(__file__).resolve().parent.parent
NEW_ID = "pinghu-20201110-p01-01"
NEW_ARTICLE = {
    "id": NEW_ID,
    "source": "今日平湖",
    "date": "2020-11-10",
    "page": 1,
    "section": "要闻",
    "headline": "我市举行秋季消防安全演练",
    "byline": "记者 胡佳英",
    "body": "本报讯 11月9日上午，我市在当湖街道举行秋季消防安全演练，来自各镇街道的消防队员参加。\n"
    "演练模拟了居民楼火灾的报警、疏散和扑救，检验了各部门的联动处置能力。",
}


def entries(text: str) -> list[str]:
    """The changelog's entries, newest first."""
    return ["## " + part for part in text.split("\n## ")[1:]]


@pytest.fixture
def first(project):
    """The project with release 1.0.0 built."""
    result = project.build()
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def edited_schema(tmp_path, monkeypatch):
    """Build with a changed copy of the article schema."""

    def edit(change) -> None:
        doc = json.loads(schema.schema_path().read_text(encoding="utf-8"))
        change(doc)
        path = tmp_path / "edited.schema.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        monkeypatch.setattr(schema, "schema_path", lambda: path)
        schema.load.cache_clear()
        schema.validator.cache_clear()

    yield edit
    schema.load.cache_clear()
    schema.validator.cache_clear()


# --- versions ----------------------------------------------------------------------------


def changes_of(added: int = 0, changed: int = 0):
    old = [{"id": f"a-20200101-p01-{i:02d}", "date": "2020-01-01", "body": "x"} for i in range(3)]
    new = [dict(r) for r in old] + [
        {"id": f"a-20200102-p01-{i:02d}", "date": "2020-01-02", "body": "y"} for i in range(added)
    ]
    for r in new[:changed]:
        r["body"] = "fixed"
    return compare(old, new, schema.load(), schema.load())


def test_versions_parse_strictly():
    assert parse_version("1.10.0") == (1, 10, 0)
    for bad in ("1.0", "01.0.0", "1.0.0-rc1", "v1.0.0"):
        with pytest.raises(ReleaseError, match=re.escape("MAJOR.MINOR.PATCH")):
            parse_version(bad)


def test_choose_version_follows_semver():
    minor, patch, none = changes_of(added=1), changes_of(changed=1), changes_of()
    assert (minor.level, patch.level, none.level) == ("minor", "patch", "none")
    assert choose_version(None, minor, None, None, False) == (1, 0, 0)
    assert choose_version((1, 2, 3), minor, None, None, False) == (1, 3, 0)
    assert choose_version((1, 2, 3), patch, None, None, False) == (1, 2, 4)
    assert choose_version((1, 2, 3), patch, None, "major", False) == (2, 0, 0)
    assert choose_version((1, 2, 3), minor, "1.2.4", None, True) == (1, 2, 4)
    with pytest.raises(ReleaseError, match=re.escape("this change is minor (1 added), so 1.2.4 (patch)")):
        choose_version((1, 2, 3), minor, "1.2.4", None, False)
    with pytest.raises(ReleaseError, match=re.escape("not newer than the latest release 1.2.3")):
        choose_version((1, 2, 3), minor, "1.2.3", None, True)
    with pytest.raises(ReleaseError, match=re.escape("nothing changed since 1.2.3")):
        choose_version((1, 2, 3), none, None, None, False)
    with pytest.raises(ReleaseError, match="no earlier release to bump"):
        choose_version(None, minor, None, "minor", False)


def test_schema_changes_are_classified():
    old = schema.load()
    new = json.loads(json.dumps(old))
    new["properties"]["page"]["type"] = "string"
    new["properties"]["edition"] = {"type": "string", "description": "Edition."}
    del new["properties"]["kicker"]
    new["properties"]["body"]["description"] = "The text."
    found = {c.name: (c.kind, c.level) for c in compare_schemas(old, new)}
    assert found == {
        "page": ("retyped", "major"),
        "edition": ("added", "minor"),
        "kicker": ("removed", "minor"),
        "body": ("changed", "patch"),
    }


# --- immutability ------------------------------------------------------------------------


def test_an_existing_version_is_refused_and_nothing_is_touched(first):
    release = first.release("1.0.0")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in release.rglob("*") if p.is_file()}
    changelog = first.changelog.read_bytes()
    first.add_article(**NEW_ARTICLE)
    result = first.build("--version", "1.0.0")
    assert result.exit_code == 1
    assert f"{release} already exists: a release is never rebuilt" in result.output
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in release.rglob("*") if p.is_file()} == before
    assert first.changelog.read_bytes() == changelog
    assert [v for v, _ in releases(first.out / first.name)] == [(1, 0, 0)]


def test_a_version_the_changelog_already_has_is_refused(project):
    project.changelog.write_text("# Changelog\n\n## [1.0.0] - 2020-11-09\n\n- by hand\n", encoding="utf-8")
    result = project.build()
    assert result.exit_code == 1
    assert f"{project.changelog} already has an entry for 1.0.0" in result.output
    assert not project.out.exists()


INTERRUPTED = """
import sys, time
import builder.build as build

write = build.write_shard

def write_then_stall(row_groups, parquet, *args, **kwargs):
    write(row_groups, parquet, *args, **kwargs)
    print("wrote", parquet.name, flush=True)
    time.sleep(120)

build.write_shard = write_then_stall
from builder.cli import main

sys.argv = ["newsset", *sys.argv[1:]]
main()
"""


def test_a_build_killed_while_writing_leaves_no_release(project, newsset, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"  # where the killed build's sorted runs are left
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, "build", *project.options()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    guard = threading.Timer(60, proc.kill)
    guard.start()
    try:
        line = proc.stdout.readline()
        proc.kill()
        proc.wait()
    finally:
        guard.cancel()
    assert line == "wrote train-00000-of-00001.parquet\n", proc.stderr.read()
    dataset_dir = project.out / project.name
    temporary = dataset_dir / f".1.0.0.tmp-{proc.pid}"
    assert sorted(p.name for p in dataset_dir.iterdir()) == [temporary.name]  # killed mid-write
    assert (temporary / "data" / "train-00000-of-00001.parquet").is_file()
    assert not (temporary / "README.md").exists()
    assert not project.release("1.0.0").exists()
    assert releases(dataset_dir) == []
    assert not project.changelog.exists()
    left = [p for p in scratch.iterdir() if p.name.startswith(f"newsset-runs-{proc.pid}-")]
    assert len(left) == 1 and any(p.suffix == ".arrow" for p in left[0].iterdir())
    live = scratch / "newsset-runs-1-of-a-live-process"  # pid 1 runs as long as the machine
    live.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the next build, on the same TMPDIR
    result = project.build()  # the leftovers do not get in the way; the dead build's runs go
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in scratch.glob("newsset-*")) == [live.name]
    assert newsset("verify", project.release("1.0.0")).exit_code == 0


# --- verify ------------------------------------------------------------------------------


def unlock(*paths):
    for path in paths:
        path.chmod(0o644)


def reseal(release):
    """Rewrite SHA256SUMS to match the files, as someone hiding an edit would."""
    sums = release / "SHA256SUMS"
    unlock(sums)
    sums.write_text(checksums(release), encoding="utf-8")


def test_verify_passes_a_fresh_release(first, newsset):
    result = newsset("verify", first.release("1.0.0"))
    assert result.exit_code == 0, result.output
    assert "Checked 10 files, 6 records: 0 errors, 0 warnings." in result.output


def test_verify_catches_a_tampered_file(first, newsset):
    release = first.release("1.0.0")
    jsonl = release / "data" / "train-00000-of-00001.jsonl"
    unlock(jsonl)
    jsonl.write_text(jsonl.read_text(encoding="utf-8").replace("祁海龙", "祁海", 1), encoding="utf-8")
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert f"{jsonl}:1:1  error  R401  SHA-256 differs from SHA256SUMS line 4" in result.output
    assert f"{jsonl}:1:1  error  R404  record 1 differs from row 1 of the Parquet shard" in result.output


def test_verify_catches_a_card_whose_counts_lie(first, newsset):
    release = first.release("1.0.0")
    readme = release / "README.md"
    unlock(readme)
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("num_examples: 6", "num_examples: 7"), encoding="utf-8")
    reseal(release)
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert "R401" not in result.output
    lines = [line for line in result.output.splitlines() if "R405" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"{readme}:")
    assert '"num_examples": 7' in lines[0] and '"num_examples": 6' in lines[0]


def test_verify_checks_every_record_against_the_schema(first, newsset):
    release = first.release("1.0.0")
    parquet = release / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(parquet)
    rows = table.to_pylist()
    rows[1]["authors"][1]["role"] = "author"
    unlock(parquet)
    pq.write_table(table.from_pylist(rows, schema=table.schema), parquet)
    (release / "data" / "extra.txt").write_text("x", encoding="utf-8")
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert f"{parquet}:2:1  error  S006  authors[1].role: 'author' is not one of" in result.output
    assert f"{release / 'data' / 'extra.txt'}:1:1  error  R402  data/extra.txt is not listed" in result.output
    assert "R401" in result.output and "R404" in result.output


def test_verify_catches_data_of_the_wrong_type(first, newsset):
    release = first.release("1.0.0")
    parquet = release / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(parquet)
    unlock(parquet)
    pq.write_table(table.set_column(3, "page", table["page"].cast(pa.string())), parquet)
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert f"{parquet}:1:1  error  R403  page is string, the schema gives int32  (" in result.output


def test_verify_reads_row_groups_in_turn_and_finds_rows_out_of_order(project, newsset):
    project.set_build(row_group_rows=2)  # three row groups of two rows
    assert project.build().exit_code == 0
    release = project.release("1.0.0")
    parquet = release / "data" / "train-00000-of-00001.parquet"
    jsonl = parquet.with_suffix(".jsonl")
    assert pq.ParquetFile(parquet).num_row_groups == 3
    rows = pq.read_table(parquet).to_pylist()
    swapped = [*rows[:2], rows[3], rows[2], *rows[4:]]  # rows 3 and 4: the second row group
    swapped[4] = {**rows[4], "authors": [{"name": "", "role": "reporter"}]}
    unlock(parquet, jsonl)
    table = pq.read_table(parquet)
    pq.write_table(table.from_pylist(swapped, schema=table.schema), parquet, row_group_size=2)
    lines = jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    jsonl.write_text("".join([*lines[:2], lines[3], lines[2], *lines[4:], lines[0]]), encoding="utf-8")
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert f"{parquet}:5:1  error  S005  authors[0].name: must not be empty" in result.output
    assert f"{release / 'data'}:1:1  error  R404  row 4 ({rows[2]['id']}) is out of order" in result.output
    assert f"{jsonl}:5:1  error  R404  record 5 differs from row 5 of the Parquet shard" in result.output
    jsonl.write_text("".join([*lines[:2], lines[3], lines[2]]), encoding="utf-8")  # two lines short
    swapped[4] = rows[4]
    pq.write_table(table.from_pylist(swapped, schema=table.schema), parquet, row_group_size=2)
    result = newsset("verify", release)
    assert f"{jsonl}:5:1  error  R404  record 5 differs from row 5 of the Parquet shard" in result.output
    assert "S005" not in result.output
    jsonl.write_text("".join([*lines[:2], lines[3], lines[2], *lines[4:], lines[0]]), encoding="utf-8")
    result = newsset("verify", release)  # one record too many
    assert f"{jsonl}:7:1  error  R404  record 7 differs from row 7 of the Parquet shard" in result.output


def test_verify_reports_a_damaged_release_without_a_traceback(first, newsset):
    release = first.release("1.0.0")
    parquet, sums = release / "data" / "train-00000-of-00001.parquet", release / "SHA256SUMS"
    unlock(parquet, sums)
    parquet.write_bytes(b"not parquet")
    sums.write_bytes(b"\xff\xfe")
    result = newsset("verify", release)
    assert result.exit_code == 1
    assert f"{sums}:1:1  error  R402  SHA256SUMS cannot be read" in result.output
    assert f"{release / 'data'}:1:1  error  R403  a Parquet shard cannot be read" in result.output


# --- diff, --bump and the changelog ------------------------------------------------------


def test_done_when_an_added_article_is_released_as_a_minor_version(first, tmp_path, newsset):
    import datasets

    first.add_article(**NEW_ARTICLE)
    result = first.build("--bump", "minor")
    assert result.exit_code == 0, result.output
    release = first.release("1.1.0")
    newest, older = entries(first.changelog.read_text(encoding="utf-8"))
    assert newest.startswith("## [1.1.0] - 2020-11-10\n")
    assert f"- Added (1): {NEW_ID}\n" in newest
    assert "- 7 articles from 2020-11-09 to 2020-11-10 (was 6 in 1.0.0).\n" in newest
    assert older.startswith("## [1.0.0] - 2020-11-09\n")
    assert newsset("verify", release).exit_code == 0
    assert first.build("--check").exit_code == 0
    train = datasets.load_dataset(str(release), split="train", cache_dir=str(tmp_path / "hf"))
    assert train.num_rows == 7
    row = train[[r["id"] for r in train].index(NEW_ID)]
    assert row["date"] == dt.date(2020, 11, 10)
    assert row["body"] == NEW_ARTICLE["body"]
    assert row["authors"] == [{"name": "胡佳英", "role": "reporter"}]


def test_a_smaller_step_than_the_change_is_refused_unless_forced(first):
    first.add_article(**NEW_ARTICLE)
    for args in (["--bump", "patch"], ["--version", "1.0.1"]):
        result = first.build(*args)
        assert result.exit_code == 1
        assert "this change is minor (1 added), so 1.0.1 (patch) would hide it; use 1.1.0 or --force" in (
            result.output
        )
    assert [v for v, _ in releases(first.out / first.name)] == [(1, 0, 0)]
    assert first.build("--bump", "patch", "--force").exit_code == 0
    assert first.release("1.0.1").is_dir()


def test_without_a_version_the_change_proposes_it(first):
    result = first.build()
    assert result.exit_code == 1 and "nothing changed since 1.0.0" in result.output
    first.edit("pinghu-20201109-p01-05", "我市召开", "我市召开了")
    assert first.build().exit_code == 0  # a correction: patch
    first.article("pinghu-20201109-p01-06").unlink()
    assert first.build().exit_code == 0  # a removal: minor
    assert [v for v, _ in releases(first.out / first.name)] == [(1, 0, 0), (1, 0, 1), (1, 1, 0)]
    minor, patch, _ = entries(first.changelog.read_text(encoding="utf-8"))
    assert "- Changed (1): pinghu-20201109-p01-05 (headline)\n" in patch
    assert "- Removed (1): pinghu-20201109-p01-06\n" in minor


def test_diff_prints_the_comparison_of_two_releases(first, newsset):
    first.add_article(**NEW_ARTICLE)
    first.edit("pinghu-20201109-p01-05", "我市召开", "我市召开了")
    first.article("pinghu-20201109-p01-06").unlink()
    assert first.build().exit_code == 0
    old, new = first.release("1.0.0"), first.release("1.1.0")
    result = newsset("diff", old, new)
    assert result.exit_code == 0
    assert result.output == (
        f"{old} → {new}\n"
        "- 6 articles from 2020-11-09 to 2020-11-10 (was 6 in 1.0.0).\n"
        f"- Added (1): {NEW_ID}\n"
        "- Removed (1): pinghu-20201109-p01-06\n"
        "- Changed (1): pinghu-20201109-p01-05 (headline)\n"
        "- Schema: unchanged\n"
        "Change: minor (1 added, 1 removed)\n"
    )
    as_json = json.loads(newsset("diff", old, new, "--format", "json").output)
    assert as_json["added"] == [NEW_ID] and as_json["level"] == "minor"
    assert as_json["changed"] == {"pinghu-20201109-p01-05": ["headline"]}


def test_a_retyped_field_is_major(first, edited_schema, newsset):
    edited_schema(lambda doc: doc["properties"]["page"].update(type="number"))
    result = first.build("--bump", "minor")
    assert result.exit_code == 1
    assert "this change is major (page type changed (int32 → double))" in result.output
    assert first.build().exit_code == 0
    release = first.release("2.0.0")
    assert (
        pq.read_schema(release / "data" / "train-00000-of-00001.parquet").field("page").type == pa.float64()
    )
    assert newsset("verify", release).exit_code == 0
    diff = newsset("diff", first.release("1.0.0"), release).output
    assert "- Schema: page type changed (int32 → double)\n" in diff
    assert diff.endswith("Change: major (page type changed (int32 → double))\n")


def test_an_added_field_is_minor_and_a_reworded_one_a_patch(first, edited_schema):
    edited_schema(lambda doc: doc["properties"]["body"].update(description="The text as printed."))
    assert first.build().exit_code == 0
    edited_schema(lambda doc: doc["properties"].update(edition={"type": "string", "description": "Edition."}))
    assert first.build().exit_code == 0
    assert [v for v, _ in releases(first.out / first.name)] == [(1, 0, 0), (1, 0, 1), (1, 1, 0)]
    minor, patch = entries(first.changelog.read_text(encoding="utf-8"))[:2]
    assert "- Schema: edition added\n" in minor
    assert "- Schema: body changed (description)\n" in patch


# --- build --check -----------------------------------------------------------------------


def test_check_finds_a_release_the_corpus_no_longer_reproduces(first):
    assert first.build("--check").exit_code == 0
    first.edit("pinghu-20201109-p01-05", "我市召开", "我市召开了")
    result = first.build("--check")
    assert result.exit_code == 1
    release = first.release("1.0.0")
    for name in ("README.md", "SHA256SUMS", "data/train-00000-of-00001.parquet"):
        assert f"{release / name}:" in result.output
    assert "R406" in result.output and "NOT reproduced" in result.output
    assert [v for v, _ in releases(first.out / first.name)] == [(1, 0, 0)]


def test_check_wants_the_release_entry_in_the_changelog(first):
    first.changelog.write_text("# Changelog\n", encoding="utf-8")
    result = first.build("--check")
    assert result.exit_code == 1
    assert f"{first.changelog}:1:1  error  R407  no entry '## [1.0.0] - 2020-11-09'" in result.output


def test_check_without_a_release_is_an_environment_error(project):
    result = project.build("--check")
    assert result.exit_code == 2
    assert "no release to check under" in result.output


def test_no_traceback_on_a_missing_articles_folder(project, tmp_path, newsset):
    missing = ["--articles", tmp_path / "nowhere"]
    result = newsset("build", *missing, "--out", project.out, "--changelog", project.changelog)
    assert result.exit_code == 1
    assert f"{tmp_path / 'nowhere'}:1:1  error  F005  no such file or folder" in result.output
    assert not os.path.exists(project.out) and not project.changelog.exists()


def test_the_sorted_ids_of_a_comparison_live_in_a_mapped_file_not_in_memory(tmp_path, monkeypatch) -> None:
    """`diff.sorted_ids` keeps the ids in a file mapped into memory and already unlinked: they
    read as the sorted list, nothing is left on disk, and Arrow's pool holds none of them."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ids = [f"pinghu-20201109-p01-{n:05d}" for n in range(20000, 0, -1)]
    chunked = pa.chunked_array([ids[:7000], ids[7000:]], pa.string())
    before = pa.total_allocated_bytes()
    kept = diff.sorted_ids(chunked)
    assert pa.total_allocated_bytes() - before < 100_000  # the 500 KB of ids are not in the pool
    assert kept == sorted(ids) and kept[:2] == sorted(ids)[:2] and len(kept) == len(ids)
    assert list(tmp_path.iterdir()) == []
    first = compare(None, [{"id": "b", "date": "2020-11-09"}, {"id": "a", "date": "2020-11-09"}], None, {})
    assert list(first.added) == ["a", "b"] and first.new_count == 2


def test_a_first_release_sorts_its_ids_only_when_read_past_what_the_changelog_lists(
    tmp_path, monkeypatch
) -> None:
    """A first release's new ids (`diff.SortedIds`) come a chunk at a time and wait unsorted in
    a mapped, unlinked file; the changelog entry reads their count and first LIST_LIMIT, chosen
    as they came, and sorts nothing. Read further, they are all sorted."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rng = random.Random(5)
    ids = [f"pinghu-2020{rng.randrange(1, 13):02d}09-p{rng.randrange(1, 9):02d}-{n:05d}" for n in range(3000)]
    rng.shuffle(ids)
    cuts = [0, 0, 40, 41, 1700, 3000]  # an empty chunk, one of a single id, and fewer than the head
    chunks = [pa.array(ids[a:b], pa.string()) for a, b in itertools.pairwise(cuts)]

    class Chunked:
        def ids(self):
            yield from chunks

        def span(self):
            return ("2020-01-09", "2020-12-09")

    before = pa.total_allocated_bytes()
    changes = diff.compare_sides(None, Chunked(), None, schema.load())
    assert pa.total_allocated_bytes() - before < 50_000  # the ids (90 KB) are in the file, not the pool
    assert list(tmp_path.iterdir()) == []
    entry = diff.describe(changes)
    assert (
        entry[1]
        == f"Added (3000): {', '.join(sorted(ids)[: diff.LIST_LIMIT])} and 2900 more (newsset diff lists all)"
    )
    added = changes.added
    assert isinstance(added, diff.SortedIds) and added.all is None  # nothing was sorted for it
    assert changes.new_count == len(added) == 3000
    assert added[0] == min(ids) and added[diff.LIST_LIMIT - 1] == sorted(ids)[diff.LIST_LIMIT - 1]
    assert added.all is None
    assert (
        added[diff.LIST_LIMIT - 3 : diff.LIST_LIMIT + 3]
        == sorted(ids)[diff.LIST_LIMIT - 3 : diff.LIST_LIMIT + 3]
    )
    assert added.all is not None
    assert added == sorted(ids) and added[-1] == max(ids) and added[::-500] == sorted(ids)[::-500]
    few = diff.spilled(iter([pa.array(["c", "a"]), pa.array(["b"])]), head=2).ids()
    assert (few[:2], few[1], few.all) == (["a", "b"], "b", None)
    assert list(few) == ["a", "b", "c"] and len(few) == 3


def test_large_sides_are_compared_a_part_of_their_ids_at_a_time(tmp_path, monkeypatch) -> None:
    """Sides of more than JOIN_ROWS records are split by a hash of their ids into parts on disk
    and joined a part at a time (`diff.joined`): the changes are those of the join of the whole
    sides, each part holds about JOIN_ROWS rows of a side, and the scratch files go after."""
    rng = random.Random(9)
    old = [
        {"id": f"a-2020{m:02d}01-p01-{i:04d}", "date": f"2020-{m:02d}-01", "body": f"b{i}"}
        for m in (1, 2)
        for i in range(900)
    ]
    new = [dict(r) for r in old if rng.random() > 0.1]  # a tenth removed
    for r in rng.sample(new, 150):
        r["body"] += " fixed"
    new += [{"id": f"a-20200301-p01-{i:04d}", "date": "2020-03-01", "body": f"c{i}"} for i in range(400)]
    rng.shuffle(new)
    whole = compare(old, new, schema.load(), schema.load())

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(diff, "JOIN_ROWS", 200)
    parts = []
    read_part = diff.read_part
    monkeypatch.setattr(
        diff, "read_part", lambda path: parts.append(read_part(path).num_rows) or read_part(path)
    )

    class Chunked(diff.Listed):  # the sides give their digests in tables of 250 rows
        def digests(self):
            table = next(iter(super().digests()))
            for batch in table.to_batches(max_chunksize=250):
                yield pa.Table.from_batches([batch])

    split = diff.compare_sides(Chunked(old), Chunked(new), schema.load(), schema.load())
    assert diff.part_bits(len(new)) == 4 and len(parts) == 2 * 16
    assert max(parts) < 2 * 200 and sum(parts) == len(old) + len(new)
    assert split.as_dict() == whole.as_dict()
    assert (len(split.added), len(split.removed), len(split.changed)) == (
        400,
        len(old) - (len(new) - 400),
        150,
    )
    assert split.added == sorted(r["id"] for r in new if r["date"] == "2020-03-01")
    assert list(tmp_path.iterdir()) == []
    # most of a side's parts may be empty: a side of five records against one of thousands
    few = old[:5]
    assert diff.compare_sides(Chunked(few), Chunked(new), schema.load(), schema.load()).as_dict() == (
        compare(few, new, schema.load(), schema.load()).as_dict()
    )
    assert list(tmp_path.iterdir()) == []


def test_a_spill_left_on_an_error_leaves_no_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(KeyError), diff.Spill() as spill:
        spill.add(pa.array(["a"]))
        raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []
