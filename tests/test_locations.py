"""Sources on any pyarrow filesystem: a non-local one given explicitly (fsspec's in-memory
filesystem) validates and builds as the same files on disk do, diagnostics naming the files by
their URI; and the shard cuts streamed a block at a time are build.plan_shards' cuts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import fsspec
import numpy as np
import pyarrow.fs as pafs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import synth
from builder import build, locations, release, validate
from builder.config import BuildConfig, Config
from builder.diagnostics import Diagnostic
from tests.conftest import ARTICLES, run


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """The bundled articles and a generated part with errors and reprints, on disk."""
    folder = tmp_path / "corpus"
    for path in ARTICLES.rglob("*.md"):
        target = folder / "articles" / path.relative_to(ARTICLES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    synth.write_corpus(folder / "synth", 150, seed=2, error_rate=0.1, files=2)
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "skipped.jsonl").write_text("not json\n", encoding="utf-8")
    return folder


@pytest.fixture()
def memory(corpus: Path) -> pafs.FileSystem:
    """A copy of the corpus in an in-memory filesystem (nothing on disk)."""
    handler = fsspec.filesystem("memory")
    handler.store.clear()
    filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(handler))
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        filesystem.create_dir(f"bucket/{path.parent.relative_to(corpus).as_posix()}")
        with filesystem.open_output_stream(f"bucket/{path.relative_to(corpus).as_posix()}") as out:
            out.write(path.read_bytes())
    return filesystem


def test_memory_filesystem_validates_as_the_disk(corpus: Path, memory: pafs.FileSystem) -> None:
    on_disk = validate.validate_paths([corpus])
    with locations.mounted("mem", memory):
        found = validate.validate_paths(["mem://bucket"], jobs=1)
    assert (found.files, found.records) == (on_disk.files, on_disk.records) == (8, 162)

    def renamed(d: Diagnostic) -> Diagnostic:
        uri = {
            k: v.replace(str(corpus), "mem://bucket") for k, v in vars(d).items() if k in ("file", "message")
        }
        return dataclasses.replace(d, **uri)

    renamed_disk = [renamed(d) for d in on_disk.sorted()]
    assert found.sorted() == renamed_disk
    assert {d.file for d in found.diagnostics} >= {
        "mem://bucket/synth/part-0.jsonl",
        "mem://bucket/synth/part-1.jsonl",
    }
    assert {"D301", "D302", "D303"} <= {d.rule for d in found.diagnostics}


def test_missing_file_on_a_filesystem_is_a_diagnostic(memory: pafs.FileSystem) -> None:
    with locations.mounted("mem", memory):
        found = validate.validate_paths(["mem://bucket/no-such.jsonl"], jobs=1)
    assert [(d.file, d.rule) for d in found.diagnostics] == [("mem://bucket/no-such.jsonl", "F005")]


def test_memory_filesystem_builds_the_release_of_the_disk(tmp_path: Path, memory: pafs.FileSystem) -> None:
    clean = tmp_path / "clean"
    synth.write_corpus(clean, 300, seed=3, files=3)
    for path in clean.iterdir():
        with memory.open_output_stream(f"clean/{path.name}") as out:
            out.write(path.read_bytes())
    config = Config(build=BuildConfig(max_shard_bytes=400_000, row_group_rows=100))
    on_disk = release.build_release([clean], tmp_path / "disk", "1.0.0", config=config, jobs=1)
    with locations.mounted("mem", memory):
        from_memory = release.build_release(["mem://clean"], tmp_path / "mem", "1.0.0", config=config, jobs=1)
    assert on_disk.release is not None and from_memory.release is not None
    assert len(build.shard_files(on_disk.release, "parquet")) >= 3
    for name in on_disk.files:
        a, b = (on_disk.release / name).read_bytes(), (from_memory.release / name).read_bytes()
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), name
    assert on_disk.files == from_memory.files


def test_uris_that_cannot_be_read_are_diagnostics_not_tracebacks(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere").as_uri()
    result = run("validate", "nosuchfs://host/a.jsonl", missing, "--format", "json")
    assert result.exit_code == 1
    found = {d["file"]: (d["rule"], d["message"]) for d in json.loads(result.stdout)["diagnostics"]}
    assert found.keys() == {"nosuchfs://host/a.jsonl", missing}
    rule, message = found["nosuchfs://host/a.jsonl"]
    assert rule == "F005" and "nosuchfs://host/ is not a filesystem pyarrow can open" in message
    assert found[missing] == ("F005", "no such file or folder")


def greedy_cuts(sizes: list[int], max_bytes: int) -> list[range]:
    """The shard cut row by row: a row that does not fit starts a new shard (one row at least)."""
    shards, start, total = [], 0, 0
    for row, size in enumerate(sizes):
        if row > start and total + size > max_bytes:
            shards.append(range(start, row))
            start, total = row, 0
        total += size
    if start < len(sizes):
        shards.append(range(start, len(sizes)))
    return shards


@given(
    st.lists(st.integers(1, 60), max_size=80),
    st.integers(1, 150),
    st.lists(st.integers(1, 12), min_size=1, max_size=30),
)
def test_shard_cuts_streamed_by_blocks_are_plan_shards(
    sizes: list[int], max_bytes: int, blocks: list[int]
) -> None:
    cuts, at = build.ShardCuts(max_bytes), 0
    for step in blocks * (len(sizes) + 1):
        if at >= len(sizes):
            break
        cuts.add(np.array(sizes[at : at + step], dtype=np.int64))
        cuts.add(np.empty(0, np.int64))  # an empty block changes nothing
        at += step
    expected = greedy_cuts(sizes, max_bytes)
    assert build.plan_shards(sizes, max_bytes) == expected
    assert cuts.shards() == expected
