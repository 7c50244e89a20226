"""The streaming build (validate and spill sorted runs in one pass, merge them into shards a row
group at a time) writes the bytes that building in memory wrote: that former path is kept here,
as the reference. The bytes do not depend on the number of processes, the comparison with the
previous release says what comparing every record in memory said, and a refused build leaves
no runs behind."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import synth
from builder import build, card, runs, schema, screens, validate, workers
from builder.config import BuildConfig, Config
from builder.diff import describe, differing_keys, line_digest
from builder.release import build_release, diff_releases
from builder.sources import Source, iter_article_files, iter_file, to_jsonl_line, to_markdown
from tests.conftest import ARTICLES
from tests.test_screens import needs_c

SETTINGS = BuildConfig(max_shard_bytes=400_000, row_group_rows=37, zstd_level=9)
RUN_BYTES = 150_000  # many small runs, so the merge interleaves them


def varied(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Synthetic records made less regular: shuffled, some without a page or authors, some
    with their authors' keys in the other order (which the JSONL must keep)."""
    rng = random.Random(seed)
    out = []
    for rec in records:
        rec = dict(rec)
        roll = rng.random()
        if roll < 0.1:
            del rec["page"]
        elif roll < 0.2:
            del rec["authors"]  # derived from the byline
        elif roll < 0.3:
            rec["authors"] = [{"role": a["role"], "name": a["name"]} for a in rec["authors"]]
        out.append(rec)
    rng.shuffle(out)
    return out


def write_corpus(folder: Path, records: list[dict[str, Any]]) -> Path:
    """Two JSONL files and a few .md files (the first articles)."""
    folder.mkdir(parents=True)
    for i, rec in enumerate(records[:8]):
        (folder / f"article-{i}.md").write_text(to_markdown(rec, schema.field_names()), encoding="utf-8")
    rest = records[8:]
    for name, part in (("a.jsonl", rest[::3]), ("b.jsonl", rest[1::3]), ("c.jsonl", rest[2::3])):
        text = "".join(WRITERS[name](r) + "\n" for r in part)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# The JSONL files are written three ways: spaced, as orjson writes (whose lines the release
# takes as they are), and with every character past ASCII escaped (whose lines it cannot).
WRITERS = {
    "a.jsonl": lambda r: json.dumps(r, ensure_ascii=False),
    "b.jsonl": lambda r: orjson.dumps(r).decode("utf-8"),
    "c.jsonl": lambda r: json.dumps(r),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = varied([rec for rec, _ in synth.generate(500, seed=11)], seed=12)
    return write_corpus(tmp_path_factory.mktemp("streaming") / "articles", records)


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "RUN_BYTES", RUN_BYTES)


# --- the former in-memory build, as the reference ----------------------------------------


def in_memory_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """Every record read whole, normalised, sorted, as plain records (the former build.plan)."""
    records = [
        build.to_record(item.data)
        for name in iter_article_files(paths)
        for item in iter_file(name)
        if isinstance(item, Source)
    ]
    return [build.plain(r) for r in sorted(records, key=build.sort_key)]


def to_table(records: list[dict[str, Any]]) -> pa.Table:
    """The former build.to_table: plain records as a table of the schema's types."""
    arrow_schema = schema.arrow_schema()
    dates = {f.name for f in arrow_schema if pa.types.is_date32(f.type)}
    rows = [{k: dt.date.fromisoformat(v) if k in dates else v for k, v in r.items()} for r in records]
    return pa.Table.from_pylist(rows, schema=arrow_schema)


def in_memory_data(rows: list[dict[str, Any]], folder: Path, settings: BuildConfig) -> None:
    """The former build.write_data: shards cut by the records' JSON size, each written whole."""
    names = schema.field_names()
    sizes = [len(to_jsonl_line(r, names).encode("utf-8")) + 1 for r in rows]
    shards, start, size = [], 0, 0
    for i, n in enumerate(sizes):
        if i > start and size + n > settings.max_shard_bytes:
            shards.append((start, i))
            start, size = i, 0
        size += n
    shards.append((start, len(rows)))
    order = [pq.SortingColumn(names.index(n)) for n in build.SORT_FIELDS]
    for index, (a, b) in enumerate(shards):
        part = rows[a:b]
        pq.write_table(
            to_table(part),
            folder / build.shard_name(index, len(shards), "parquet"),
            row_group_size=settings.row_group_rows,
            compression="zstd",
            compression_level=settings.zstd_level,
            use_dictionary=build.dictionary_columns(schema.arrow_schema(), tuple(settings.plain_fields)),
            write_statistics=True,
            sorting_columns=order,
        )
        lines = "".join(to_jsonl_line(r, names) + "\n" for r in part)
        (folder / build.shard_name(index, len(shards), "jsonl")).write_text(lines, encoding="utf-8")


def in_memory_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The former card.Stats.of(records), and the first record and dates the card showed."""
    months = Counter(str(r["date"])[:7] for r in rows)
    return {
        "months": {m: n for m, n in sorted(months.items())},
        "per_source": Counter(r["source"] for r in rows).most_common(),
        "per_section": Counter(r["section"] for r in rows).most_common(),
        "lengths": sorted(len(r["body"]) for r in rows),
        "span": (str(rows[0]["date"]), str(rows[-1]["date"])),
        "example": rows[0],
    }


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["c", "numpy"])
def test_streamed_shards_are_the_bytes_of_the_in_memory_build(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """With the C part (release lines made from the input's lines, bodies read past the JSON
    reader) and without it: the bytes of the reference."""
    if engine == "c" and screens._scan is None and not os.environ.get("CI"):
        pytest.skip("builder._scan is not built here")
    monkeypatch.setenv("NEWSSET_SCREENS", engine)
    monkeypatch.setattr(runs, "KEY_BUDGET", 16)  # the fewest keys a batch: each run's keys in several
    rows = in_memory_rows([corpus])
    reference = tmp_path / "reference"
    reference.mkdir()
    in_memory_data(rows, reference, SETTINGS)
    with runs.stage([corpus], jobs=2) as staged:
        assert staged.report.errors == 0 and staged.count == len(rows) == 500
        assert len(staged.runs) > 10
        assert all(pa.ipc.open_file(run.keys).num_record_batches > 1 for run in staged.runs if run.count > 16)
        assert sum(run.count > 16 for run in staged.runs) > 10
        assert staged.lengths is not None and all(run.lengths is None for run in staged.runs)
        with monkeypatch.context() as patch:  # the writers count no length again
            patch.setattr(card.pc, "utf8_length", None)
            stats = runs.write_data(
                staged.runs, tmp_path / "streamed", SETTINGS, jobs=2, lengths=staged.lengths
            )
        counted = runs.write_data(staged.runs, tmp_path / "counted", SETTINGS, jobs=2)  # by the writers
    assert file_hashes(tmp_path / "counted") == file_hashes(tmp_path / "streamed")
    assert counted.lengths.values.tolist() == stats.lengths.values.tolist()
    assert counted.lengths.counts.tolist() == stats.lengths.counts.tolist()
    streamed = file_hashes(tmp_path / "streamed")
    assert streamed == file_hashes(reference)
    parquet = sorted((tmp_path / "streamed").glob("*.parquet"))
    assert len(parquet) > 3
    for path in parquet:  # several row groups, all full but the last
        meta = pq.ParquetFile(path).metadata
        groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        assert len(groups) > 1 and set(groups[:-1]) == {SETTINGS.row_group_rows}
    assert any(pq.ParquetFile(p).metadata.num_rows % SETTINGS.row_group_rows for p in parquet)
    want = in_memory_stats(rows)
    assert {m: n for m, n in stats.per_month if n} == want["months"]
    assert stats.per_source == want["per_source"]
    assert stats.per_section == want["per_section"]
    assert np.repeat(stats.lengths.values, stats.lengths.counts).tolist() == want["lengths"]
    assert stats.span == want["span"]
    assert json.dumps(stats.example, ensure_ascii=False) == json.dumps(want["example"], ensure_ascii=False)


def test_each_side_gives_the_ids_its_digests_have(corpus: Path, tmp_path: Path) -> None:
    """`ids()`, all a first release's comparison reads, is the id column of `digests()`, a chunk
    at a time: a run's (its keys, mapped) for the staged corpus, a shard's for a release."""
    with runs.stage([corpus], jobs=2) as staged:
        assert len(staged.runs) > 10
        chunks = list(staged.ids())
        assert [len(c) for c in chunks] == [run.count for run in staged.runs]
        ids = [i for chunk in chunks for i in chunk.to_pylist()]
        digests = list(staged.digests())
        assert [t.num_rows for t in digests] == [run.count for run in staged.runs]
        assert ids == [i for t in digests for i in t.column("id").to_pylist()]
        assert len(set(ids)) == 500
        runs.write_data(staged.runs, tmp_path / "release" / "data", SETTINGS)
    shards = build.ReleaseRows(tmp_path / "release")
    chunks = list(shards.ids())
    assert len(chunks) == len(shards.files) > 1
    from_shards = [i for chunk in chunks for i in chunk.to_pylist()]
    assert from_shards == [i for t in shards.digests() for i in t.column("id").to_pylist()]
    assert shards.count == staged.count == 500
    assert sorted(from_shards) == sorted(ids)
    # a record's digest is the same on both sides: its line's, whatever side it is read from
    staged_digests = dict(
        zip(*(pa.concat_tables(digests).column(c).to_pylist() for c in ("id", "digest")), strict=True)
    )
    shard_tables = list(shards.digests())
    assert len(shard_tables) == len(shards.files)
    shard_digests = dict(
        zip(*(pa.concat_tables(shard_tables).column(c).to_pylist() for c in ("id", "digest")), strict=True)
    )
    assert shard_digests == staged_digests
    assert [at for t in shard_tables for at in t["at"].to_pylist()] == list(range(500))


def test_a_release_whose_jsonl_lacks_a_line_cannot_be_compared(corpus: Path, tmp_path: Path) -> None:
    """A previous release whose JSONL shard has fewer lines than its Parquet shard has rows is
    refused by name: its digests would not say which record is which."""
    with runs.stage([corpus], jobs=1) as staged:
        runs.write_data(staged.runs, tmp_path / "release" / "data", SETTINGS)
    shard = build.shard_files(tmp_path / "release", "jsonl")[-1]
    shard.write_bytes(b"".join(shard.read_bytes().splitlines(keepends=True)[:-1]))
    with pytest.raises(ValueError, match=re.escape(f"{shard}: ")):
        list(build.ReleaseRows(tmp_path / "release").digests())


def test_the_authors_keep_their_keys_order_in_the_jsonl(corpus: Path, tmp_path: Path) -> None:
    with runs.stage([corpus], jobs=1) as staged:
        runs.write_data(staged.runs, tmp_path, SETTINGS)
    lines = [line for p in sorted(tmp_path.glob("*.jsonl")) for line in p.read_text("utf-8").splitlines()]
    assert len(lines) == 500
    assert any('"authors":[{"role":' in line for line in lines)
    assert any('"authors":[{"name":' in line for line in lines)
    assert any('"page"' not in line for line in lines)


def test_the_number_of_processes_changes_no_byte(corpus: Path, tmp_path: Path) -> None:
    config = Config(build=SETTINGS)
    built = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs-{jobs}"
        result = build_release([corpus], out, config=config, changelog=out / "CHANGELOG.md", jobs=jobs)
        assert result.release is not None, result.report.sorted()[:3]
        built[jobs] = file_hashes(out)
    assert built[1] == built[2]
    assert sum(name.endswith(".parquet") for name in built[1]) > 3


def reference_changes(old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The former diff.compare: both sides whole, as dicts by id."""
    old = {r["id"]: r for r in old_rows}
    new = {r["id"]: r for r in new_rows}
    dates = sorted(str(r["date"]) for r in new_rows)
    return {
        "old_count": len(old),
        "new_count": len(new),
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": {
            i: differing_keys(old[i], new[i]) for i in sorted(old.keys() & new.keys()) if old[i] != new[i]
        },
        "dates": (dates[0], dates[-1]),
    }


def edited(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The corpus of a next release: some records removed, added, corrected, moved to another
    page or day, and some only with their authors' keys reordered (no change)."""
    out = [dict(r) for r in records[30:]]  # 30 removed
    extra = [rec for rec, _ in synth.generate(540, seed=11)][500:]
    out += [{**rec, "id": rec["id"].replace("synth-", "extra-")} for rec in extra]  # 40 added
    for rec in out[:25]:
        rec["headline"] = rec["headline"] + "（更正）"
    for rec in out[25:30]:
        rec["kicker"] = "新引题"
        rec["body"] = rec["body"] + "\n本文有删改。"
    for rec in out[30:35]:  # they had no page: now the one their id names, so they move
        rec["page"] = int(rec["id"].split("-")[2][1:])
    for rec in out[35:45]:
        if "authors" in rec:
            rec["authors"] = [dict(reversed(list(a.items()))) for a in rec["authors"]]
    return out


def test_changes_equal_those_of_comparing_every_record_in_memory(corpus: Path, tmp_path: Path) -> None:
    records = varied([rec for rec, _ in synth.generate(500, seed=11)], seed=12)
    for rec in records[60:65]:
        rec.pop("page", None)
    first = write_corpus(tmp_path / "v1", records)
    config = Config(build=SETTINGS)
    changelog = tmp_path / "CHANGELOG.md"
    one = build_release([first], tmp_path / "dist", config=config, changelog=changelog, jobs=2)
    second = write_corpus(tmp_path / "v2", edited(records))
    two = build_release([second], tmp_path / "dist", config=config, changelog=changelog, jobs=2)
    assert one.release is not None and two.release is not None and two.changes is not None
    assert two.version == "1.1.0"

    old_rows = build.table_records(build.read_table(one.release))
    want = reference_changes(old_rows, in_memory_rows([second]))
    got = dataclasses.asdict(two.changes)
    assert {k: got[k] for k in want} == want
    assert len(want["added"]) == 40 and len(want["removed"]) == 30 and len(want["changed"]) == 35
    reference = dataclasses.replace(two.changes, **want)
    assert describe(two.changes, "1.0.0") == describe(reference, "1.0.0")
    entry = changelog.read_text(encoding="utf-8").split("\n## ")[1]
    assert "- Changed (35): " in entry
    assert "(headline)" in entry and "(kicker, body)" in entry and "(page)" in entry
    diffed = diff_releases(one.release, two.release)
    assert dataclasses.asdict(diffed) == dataclasses.asdict(two.changes)


def test_a_refused_build_leaves_no_runs(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    bad = tmp_path / "bad"
    bad.mkdir()
    text = (corpus / "a.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    text[150] = text[150].replace('"source": "合成日报"', '"source": ""')
    assert '"source": ""' in text[150]
    (bad / "a.jsonl").write_text("".join(text), encoding="utf-8")
    out = tmp_path / "dist"
    result = build_release(
        [bad], out, config=Config(build=SETTINGS), changelog=tmp_path / "CHANGELOG.md", jobs=2
    )
    assert result.release is None and result.report.errors > 0
    assert not out.exists() and not (tmp_path / "CHANGELOG.md").exists()
    assert ours(scratch) == []
    with runs.stage([bad]) as staged:
        assert staged.runs == [] and staged.report.errors > 0
        assert ours(scratch) != []  # the folder exists, empty of runs
        assert [q for p in ours(scratch) for q in p.iterdir()] == []
    result = build_release([corpus], out, config=Config(build=SETTINGS), changelog=tmp_path / "CHANGELOG.md")
    assert result.release is not None
    assert ours(scratch) == []


def test_the_merge_is_made_in_a_child_while_the_corpus_is_checked(corpus: Path) -> None:
    """With workers, the merge runs in a child process started before the corpus checks, and
    gives what merging here gives; in one process it is made here, when it is needed."""
    with runs.stage([corpus], jobs=2) as staged:
        merging = staged.merging
        assert merging is not None and merging.process is not None
        order, sizes = merging.result()
        assert merging.process.exitcode == 0
        expected = runs.merge(staged.runs)
        assert order.tolist() == expected[0].tolist() and len(order) == 500
        assert sizes.tolist() == expected[1].tolist()
    assert not Path(merging.path).exists()
    with runs.stage([corpus], jobs=1) as staged:
        assert staged.merging is not None and staged.merging.process is None
        assert staged.merging.result()[0].tolist() == runs.merge(staged.runs)[0].tolist()


def test_a_merge_whose_child_fails_is_made_here(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "merge_to_file", lambda *_: os._exit(3))
    with runs.stage([corpus], jobs=2) as staged:
        assert staged.merging is not None
        order, sizes = staged.merging.result()
        assert staged.merging.process is not None and staged.merging.process.exitcode == 3
        assert order.tolist() == runs.merge(staged.runs)[0].tolist()
        assert sizes.tolist() == runs.merge(staged.runs)[1].tolist()


def ours(scratch: Path) -> list[Path]:
    """newsset's folders in TMPDIR (not those of multiprocessing, `pymp-*`)."""
    return [p for p in scratch.iterdir() if p.name.startswith("newsset-")]


def test_shards_are_cut_by_the_rows_json_size() -> None:
    assert build.plan_shards([5, 5, 5, 20, 1], 10) == [range(0, 2), range(2, 3), range(3, 4), range(4, 5)]
    assert build.plan_shards(np.array([3, 3, 3]), 100) == [range(0, 3)]
    assert build.plan_shards([], 10) == []


def test_a_runs_lines_are_the_same_array_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Made from one buffer, or by pyarrow past the offsets' limit: the same string array."""
    lines = [b'{"a":"\xe4\xbb\x8a"}', b"", b'{"b":1}']
    joined = runs.lines_array(lines)
    monkeypatch.setattr(runs, "OFFSET_LIMIT", 4)
    by_pyarrow = runs.lines_array(lines)
    assert joined.type == by_pyarrow.type == pa.string()
    assert joined.equals(by_pyarrow)
    assert joined.to_pylist() == ['{"a":"今"}', "", '{"b":1}']


@needs_c
@pytest.mark.parametrize("case", ["corpus", "authors", "a.jsonl", "key batches"])
def test_runs_of_jsonl_lines_point_into_their_files_and_give_the_same_bytes(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Where the C part makes a unit's release lines from its lines, the unit's run holds its
    keys and the lines' places (those of a.jsonl and b.jsonl), and the lines of the records
    whose authors come from their byline; the runs of .md files and of escaped lines (c.jsonl)
    hold their lines. Shards, records read back by place, and digests are those of a build
    whose runs all hold their lines: with the runs mixed in a row group, with every row group
    made from one file in order (`authors`: the lines of a.jsonl whose records have authors),
    with the rows of one file, some held (a.jsonl), and with the places read from keys files of
    several small batches (`key batches`)."""
    if case == "key batches":
        monkeypatch.setattr(runs, "KEY_BATCH", 16)
        case = "corpus"
    paths = [corpus / case] if case == "a.jsonl" else [corpus]
    authors = case == "authors"
    if authors:
        lines = (corpus / "a.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        paths = [tmp_path / "authors.jsonl"]
        paths[0].write_text("".join(line for line in lines if '"authors"' in line), encoding="utf-8")
    with runs.stage(paths, jobs=2) as staged:
        pointing = [run for run in staged.runs if run.source is not None]
        names = {Path(run.source.path).name for run in pointing}
        assert names == {"corpus": {"a.jsonl", "b.jsonl"}, "authors": {"authors.jsonl"}}.get(case, {case})
        holding = [run for run in pointing if run.rows]  # with lines of records without authors
        assert all(run.files == (run.keys,) for run in pointing if not run.rows)
        assert (holding == []) if authors else (0 < len(holding) <= len(pointing))
        assert len(pointing) > 3 and (len(pointing) == len(staged.runs)) == (case != "corpus")
        batches = max(len(run.batch_rows) for run in pointing)
        assert (batches > 1) == (runs.KEY_BATCH == 16)  # places read across batches of keys
        places = [i << runs.ROW_BITS | row for i, run in enumerate(staged.runs) for row in (0, run.count - 1)]
        records = staged.records_at(places)
        digests = pa.concat_tables(staged.digests())
        runs.write_data(staged.runs, tmp_path / "pointing", SETTINGS, jobs=2)
    monkeypatch.setattr(runs, "source_file", lambda unit: None)  # every run holds its lines
    with runs.stage(paths, jobs=2) as staged:
        assert all(run.source is None and Path(run.rows).exists() for run in staged.runs)
        assert staged.records_at(places) == records
        assert pa.concat_tables(staged.digests()).equals(digests)
        runs.write_data(staged.runs, tmp_path / "holding", SETTINGS, jobs=2)
    assert file_hashes(tmp_path / "pointing") == file_hashes(tmp_path / "holding")
    assert len(file_hashes(tmp_path / "pointing")) > 2


@needs_c
def test_entries_of_a_placed_unit_keep_the_size_and_digest_not_the_line(corpus: Path) -> None:
    """A unit whose run will point into its file keeps, of each record with a place, its
    release line's size and digest only (the line is made again by the shard writers); the
    records without a place keep their lines; the same unit not placed keeps every line, with
    the same sizes and digests."""
    unit = validate.plan_units([corpus / "a.jsonl"])[0]
    _, placed, _ = runs.unit_entries(unit, placing=True)
    _, kept, _ = runs.unit_entries(unit)
    assert len(placed) == len(kept) > 3
    with_place = [i for i, entry in enumerate(placed) if entry[2] >= 0]
    assert 0 < len(with_place) < len(placed)  # a.jsonl has records whose authors come from the byline
    for i, (p, k) in enumerate(zip(placed, kept, strict=True)):
        assert p[0] == k[0] and p[2:] == k[2:]
        assert p[1] == (b"" if i in with_place else k[1])
        assert k[4:] == (len(k[1]) + 1, line_digest(k[1]))


@needs_c
def test_an_input_file_changed_after_the_pass_is_refused(corpus: Path, tmp_path: Path) -> None:
    """The shard writers read the lines of runs made from their input again: a file whose time
    has changed since the pass read it, or whose lines no longer make release lines, is
    refused, naming the file."""
    path = tmp_path / "a.jsonl"
    path.write_bytes((corpus / "a.jsonl").read_bytes())
    with runs.stage([path], jobs=1) as staged:
        assert staged.runs and all(run.source is not None for run in staged.runs)
        found = path.stat()
        os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns + 1_000_000_000))
        with pytest.raises(runs.InputChanged, match=r"a\.jsonl changed while the build read it"):
            runs.write_data(staged.runs, tmp_path / "touched", SETTINGS)
        data = bytearray(path.read_bytes())
        data[0] = ord("[")  # the same size, and the time it had: the first line is no object
        path.write_bytes(bytes(data))
        os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns))
        with pytest.raises(runs.InputChanged, match=r"a\.jsonl changed while the build read it"):
            runs.write_data(staged.runs, tmp_path / "edited", SETTINGS)
    assert issubclass(runs.InputChanged, OSError)  # the CLI reports it as it does a failed write


def test_the_runs_go_when_dropped_and_the_shards_are_flushed(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[str] = []
    monkeypatch.setattr(build, "flush_soon", lambda paths: flushed.extend(p.name for p in paths))
    waited: list[int] = []
    with runs.stage([corpus], jobs=1) as staged:
        files = [Path(p) for run in staged.runs for p in run.files]
        assert files and all(p.exists() for p in files)
        staged.write_data(tmp_path / "data", SETTINGS, meanwhile=lambda: waited.append(len(flushed)))
        assert all(p.exists() for p in files)
        staged.drop_runs()
        assert staged.runs == [] and staged.removing is not None
    assert not any(p.exists() for p in files)  # removed by the time the stage is left
    written = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert sorted(flushed) == written and len(written) > 2  # each shard, by its own writer
    assert waited == [0]  # once, before the first shard was done


def test_the_caller_works_meanwhile_once_before_the_results_come() -> None:
    for jobs in (1, 2):
        order: list[str] = []
        results = workers.imap(str, range(5), jobs, meanwhile=functools.partial(order.append, "meanwhile"))
        for result in results:
            order.append(result)
        assert order == ["meanwhile", "0", "1", "2", "3", "4"]


def frozen_objects(_: int) -> int:
    return gc.get_freeze_count()


def test_workers_start_with_the_callers_objects_frozen_and_the_caller_does_not() -> None:
    """A worker's collector leaves alone the objects it inherited (so it does not copy their
    pages); the caller's own collector is as it was, objects it froze itself staying frozen."""
    assert gc.get_freeze_count() == 0
    assert min(workers.imap(frozen_objects, range(4), 2)) > 0
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        assert min(workers.imap(frozen_objects, range(4), 2)) > 0
        assert gc.get_freeze_count() > 0  # not unfrozen behind the caller's back
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("scan_batch", [card.SCAN_BATCH, 7])
def test_the_writers_arrow_size_is_the_size_read_back(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_batch: int
) -> None:
    """The shard writer counts the bytes of the columns that cannot be null as it writes them and
    reads back only the others: the same figure as reading the whole file (batches cut inside
    row groups too, with 7 rows a batch)."""
    monkeypatch.setattr(card, "SCAN_BATCH", scan_batch)
    with runs.stage([corpus], jobs=1) as staged:
        stats = staged.write_data(tmp_path, SETTINGS)
    parquet = [f for f in stats.files if f.path.endswith(".parquet")]
    assert len(parquet) > 3
    for facts in parquet:
        assert (facts.rows, facts.arrow_bytes) == card.arrow_size(Path(facts.path))
    measured = [f.name for f in pq.read_schema(parquet[0].path) if card.is_measured(f)]
    assert "body" in measured and "authors" not in measured and "page" not in measured


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["2020-01-01", "2020-01-02", "2020-01-03"]),
                st.one_of(st.none(), st.integers(1, 3)),
                st.sampled_from(["a", "b", "c", "d"]),
            ),
            max_size=12,
        ),
        max_size=5,
    ),
    st.integers(1, 4),
)
def test_the_merge_puts_every_row_in_key_then_run_order(
    keys: list[list[tuple[Any, ...]]], batch: int
) -> None:
    """`runs.merge` gives the order of one sort of all the rows by (key, run, place in the run),
    whatever the batches of keys: interleaved runs and equal keys too (as a heap merge would)."""
    runs_records = [
        [
            {"date": d, "id": i, **({"page": p} if p is not None else {}), "n": n}
            for n, (d, p, i) in enumerate(rows)
        ]
        for rows in keys
    ]
    runs_records = [records for records in runs_records if records]
    expected = sorted(
        (build.sort_key(r), index, r["n"], len(runs.plain_jsonl_bytes(r)) + 1)
        for index, records in enumerate(runs_records)
        for r in records
    )
    with tempfile.TemporaryDirectory() as folder:
        written = [
            runs.write_run(*runs.run_tables([runs.entry(x) for x in r]), folder, 1 << 20, batch)
            for r in runs_records
        ]
        order, sizes = runs.merge(written)
    assert order.tolist() == [index for _, index, _, _ in expected]
    assert sizes.tolist() == [size for _, _, _, size in expected]


def test_run_tables_are_the_tables_pyarrow_converts_and_need_no_pandas(tmp_path: Path) -> None:
    """The run's tables, made from buffers, equal pyarrow's conversion of the same lists; and
    staging a unit in a fresh process imports no pandas (pyarrow's conversions would)."""
    records = [build.to_record(rec) for rec, _ in synth.generate(40, seed=3)]
    for r in records[::3]:
        r.pop("page", None)
    random.Random(0).shuffle(records)
    keys, rows = runs.run_tables([runs.entry(r) for r in records])
    ordered = sorted(records, key=build.sort_key)
    lines = [runs.plain_jsonl_bytes(r) for r in ordered]
    expected = pa.table(
        {
            "date": [r["date"] for r in ordered],
            "page": pa.array([r.get("page") for r in ordered], pa.int64()),
            "id": [r["id"] for r in ordered],
            "size": pa.array([len(line) + 1 for line in lines], pa.int64()),
            "digest": pa.array([runs.line_digest(line) for line in lines], pa.binary(16)),
        }
    )
    assert keys.equals(expected) and keys.column("page").null_count == 14
    assert rows.column(build.LINE_COLUMN).to_pylist() == [line.decode("utf-8") + "\n" for line in lines]
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(b"".join(line + b"\n" for line in lines))
    script = (
        "import sys, tempfile\n"
        "from builder import runs, validate\n"
        f"unit = validate.plan_units([{str(corpus)!r}])[0]\n"
        "result = runs.stage_unit(unit, tempfile.mkdtemp(), 1 << 20)\n"
        "assert result.output is not None and result.output.count == 40\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


def joined_reference(texts: list[str], order: list[int]) -> bytes:
    return "".join(texts[i] for i in order).encode("utf-8")


@pytest.mark.parametrize("views", [True, False])
def test_joined_is_the_lines_taken_in_order_then_joined(monkeypatch: pytest.MonkeyPatch, views: bool) -> None:
    """A row group's JSONL bytes from a run's line column: chunks that are slices of their
    arrays, taken in any order, through string views and through pyarrow's take."""
    monkeypatch.setattr(runs, "VIEWS_CAST", views)
    rng = random.Random(8)
    texts = ['{"id":"' + "字" * rng.randrange(2, 30) + 'x"}\n' for _ in range(400)]
    whole = [runs.lines_array([t[:-1].encode("utf-8") for t in texts[:250]], ended=True)]
    whole.append(runs.lines_array([t[:-1].encode("utf-8") for t in texts[250:]], ended=True))
    lines = pa.chunked_array([whole[0].slice(10, 200), whole[1].slice(0, 150), whole[1].slice(149, 0)])
    kept = texts[10:210] + texts[250:400]
    order = list(range(len(kept)))
    rng.shuffle(order)
    assert bytes(runs.joined(lines, np.array(order))) == joined_reference(kept, order)
    assert bytes(runs.joined(lines)) == joined_reference(kept, list(range(len(kept))))
    short = pa.chunked_array(
        [runs.lines_array([b"{}", *[t[:-1].encode("utf-8") for t in texts[:5]]], ended=True)]
    )
    assert bytes(runs.joined(short, np.array([5, 0, 3]))) == joined_reference(["{}\n", *texts[:5]], [5, 0, 3])
    assert bytes(runs.joined(pa.chunked_array([], pa.string()))) == b""


def test_hashing_file_hands_large_writes_over_in_pieces(tmp_path: Path) -> None:
    """No write to the system is larger than WRITE_PIECE; the file and its digest are whole."""
    data = os.urandom(3 * build.WRITE_PIECE + 5)
    path = tmp_path / "f.jsonl"
    sizes: list[int] = []

    class Recording(io.FileIO):
        def write(self, piece: Any) -> int | None:
            sizes.append(len(memoryview(piece)))
            return super().write(piece)

    with build.HashingFile(path) as out:
        out.file.close()
        out.file = io.BufferedWriter(Recording(path, "w"))
        assert out.write(b"head") == 4
        assert out.write(data) == len(data)
        assert out.write(pa.py_buffer(b"tail")) == 4
    assert path.read_bytes() == b"head" + data + b"tail"
    assert out.hexdigest() == hashlib.sha256(b"head" + data + b"tail").hexdigest()
    assert max(sizes) <= build.WRITE_PIECE and len(sizes) >= 4


def test_hashing_file_sends_each_written_part_on_to_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every WRITEBACK_BYTES the new part's writing to the disk is started, from where the last
    one ended; the system call itself works on a real file."""
    probe = os.open(tmp_path / "probe", os.O_CREAT | os.O_WRONLY)
    try:
        build.start_writeback(probe, 0, 4096)
    finally:
        os.close(probe)
    monkeypatch.setattr(build, "WRITEBACK_BYTES", 1000)
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(build, "start_writeback", lambda fd, start, length: started.append((start, length)))
    path = tmp_path / "f.jsonl"
    with build.HashingFile(path) as out:
        for size in (600, 600, 300, 2500, 10):
            out.write(b"x" * size)
    assert started == [(0, 1200), (1200, 2800)]
    assert path.stat().st_size == 4010


def test_a_first_release_imports_pandas_in_no_process(corpus: Path, tmp_path: Path) -> None:
    """pyarrow imports pandas at its first conversion of Python values (half a second of a
    process's CPU): a first release's build, its shard writers included, converts none; the
    next release's build, which compares, has it imported while the workers stage."""
    marker = tmp_path / "imported"
    script = (
        "import os, sys\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pandas':\n"
        f"            open({str(marker)!r}, 'a').write(f'{{os.getpid()}} ')\n"
        "sys.meta_path.insert(0, Watch())\n"
        "from builder import runs\n"
        "from builder.config import BuildConfig, Config\n"
        "from builder.release import build_release\n"
        f"runs.RUN_BYTES = {RUN_BYTES}\n"
        f"config = Config(build=BuildConfig(max_shard_bytes={SETTINGS.max_shard_bytes}, row_group_rows=37))\n"
        f"result = build_release([{str(corpus)!r}], {str(tmp_path / 'dist')!r}, version=sys.argv[1], "
        "config=config, jobs=2)\n"
        "print(len(list(result.release.glob('data/*.parquet'))), os.path.exists(%r), os.getpid())\n"
        % str(marker)
    )
    done = subprocess.run([sys.executable, "-c", script, "1.0.0"], capture_output=True, text=True)
    assert (done.returncode, done.stdout.split()[1]) == (0, "False"), done.stderr
    assert int(done.stdout.split()[0]) > 3  # shards written by two worker processes
    done = subprocess.run([sys.executable, "-c", script, "1.1.0"], capture_output=True, text=True)
    assert (done.returncode, done.stdout.split()[1]) == (0, "True"), done.stderr
    assert marker.read_text().split() == [done.stdout.split()[2]]  # in the main process alone


def test_a_first_release_of_a_few_articles_imports_pandas_nowhere(tmp_path: Path) -> None:
    """A corpus of fewer ids than the changelog lists (the repository's six articles) has them
    all sorted, past an empty pick of the smallest (`diff.smallest`), with no conversion either."""
    script = (
        "import sys\n"
        "from builder.release import build_release\n"
        f"result = build_release([{str(ARTICLES)!r}], {str(tmp_path / 'dist')!r}, version='1.0.0')\n"
        "print(result.changes.new_count, 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout.split()) == (0, ["6", "False"]), done.stderr


def test_flush_soon_writes_the_files_through_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(build.os, "fsync", lambda fd: synced.append(os.fstat(fd).st_size))
    paths = [tmp_path / "a", tmp_path / "b"]
    for n, path in enumerate(paths):
        path.write_bytes(b"x" * (n + 1))
    thread = build.flush_soon(paths)
    thread.join(timeout=10)
    assert not thread.is_alive() and thread.daemon and synced == [1, 2]
