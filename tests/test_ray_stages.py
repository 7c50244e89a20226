"""The Ray Data stages on a local Ray (2 CPUs): the same diagnostics and the same release bytes
as the local engine, on the bundled corpus and on a generated one cut into several shards, with
sources named by path or by file:// URI."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks import synth
from builder import build, ray_engine, validate
from tests.conftest import run

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback only (read when Ray is imported)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
try:
    import ray
except ImportError:  # pragma: no cover - .ci/run installs the extra, so CI never skips
    if os.environ.get("CI"):
        raise
    pytest.skip("Ray is an optional extra: pip install 'newsset[ray]'", allow_module_level=True)

SMALL_SHARDS = "[build]\nmax_shard_bytes = 1500000\nrow_group_rows = 200\n"


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray for the module: every command below finds it running and uses it."""
    with ray_engine.session(num_cpus=2):
        yield
    assert not ray.is_initialized()


def tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def same_results(a: list[validate.UnitResult], b: list[validate.UnitResult]) -> None:
    assert [r.records for r in a] == [r.records for r in b]
    assert [sorted(r.diagnostics) for r in a] == [sorted(r.diagnostics) for r in b]
    for x, y in zip(a, b, strict=True):
        assert x.columns.keys() == y.columns.keys()
        for key in x.columns:
            assert (x.columns[key] == y.columns[key]).all(), key


def test_local_ray_runs_the_local_work_functions(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    synth.write_jsonl(corpus, 400, seed=3, error_rate=0.2)
    units = validate.plan_units([corpus], chunk_bytes=100_000)
    assert len(units) > 4
    same_results(list(ray_engine.imap(validate.check_unit, units)), [validate.check_unit(u) for u in units])


def test_validate_json_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    synth.write_corpus(corpus, 1000, seed=4, error_rate=0.05)
    monkeypatch.setattr(validate, "CHUNK_BYTES", 300_000)  # files cut in ranges, counted by workers
    assert any(unit.lines_relative for unit in validate.plan_units([corpus]))
    local = run("validate", corpus, "--format", "json")
    on_ray = run("validate", corpus, "--format", "json", "--engine", "ray")
    assert local.exit_code == on_ray.exit_code == 1
    assert on_ray.stdout == local.stdout
    found = json.loads(on_ray.stdout)
    assert found["summary"]["files"] == 4
    rules = {d["rule"] for d in found["diagnostics"]}
    assert {"D301", "D302", "D303", "S001"} <= rules  # the corpus checks ran, across files


def build_twice(
    tmp_path: Path, records: int, seed: int, *ray_args: str, uri: bool = False
) -> tuple[Any, Any]:
    """Build a generated corpus cut into small shards with the local engine, then with
    `--engine ray` and `ray_args` (the corpus named by its file:// URI if `uri`)."""
    corpus = tmp_path / "corpus"
    synth.write_corpus(corpus, records, seed=seed)
    config = tmp_path / "newsset.toml"
    config.write_text(SMALL_SHARDS, encoding="utf-8")
    common = ["build", "--version", "1.0.0", "--config", config]
    local = run(*common, "--articles", corpus, "--out", tmp_path / "local", "--changelog", tmp_path / "a.md")
    source = corpus.as_uri() if uri else corpus  # file:///…: read through pyarrow's filesystem
    out = ["--out", tmp_path / "ray", "--changelog", tmp_path / "b.md"]
    on_ray = run(*common, "--articles", source, *out, "--engine", "ray", *ray_args)
    assert local.exit_code == on_ray.exit_code == 0, on_ray.output
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")
    assert (tmp_path / "a.md").read_text() == (tmp_path / "b.md").read_text()
    return local, on_ray


def test_generated_corpus_builds_the_same_bytes_from_a_file_uri(tmp_path: Path) -> None:
    local, on_ray = build_twice(tmp_path, 1500, 4, uri=True)
    shards = build.shard_files(tmp_path / "local" / "zh-local-news" / "1.0.0", "parquet")
    assert len(shards) >= 4
    assert all(pq.ParquetFile(p).metadata.num_row_groups >= 2 for p in shards[:-1])
    assert "D303" in on_ray.output and "D302" in on_ray.output  # warnings, printed by both
    corpus = tmp_path / "corpus"
    expected = local.stdout.replace(str(corpus), corpus.as_uri()).replace("/local/", "/ray/")
    assert on_ray.stdout == expected


def test_file_uri_names_the_file_as_given(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    synth.write_corpus(corpus, 300, seed=6, error_rate=0.1, files=2)
    local = run("validate", corpus, "--format", "json")
    for engine in ("local", "ray"):
        by_uri = run("validate", corpus.as_uri(), "--format", "json", "--engine", engine)
        assert by_uri.exit_code == 1
        assert by_uri.stdout == local.stdout.replace(str(corpus), corpus.as_uri())
        assert json.loads(by_uri.stdout)["diagnostics"][0]["file"].startswith("file:///")


def test_bundled_corpus_rebuilds_the_committed_release() -> None:
    result = run("build", "--check", "--engine", "ray")
    assert result.exit_code == 0, result.output
    assert "byte for byte identical" in result.output
