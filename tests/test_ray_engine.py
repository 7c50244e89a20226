"""The Ray engine on a two-node cluster simulated on this machine: the local engine's results and
release bytes, also when workers are killed mid-task (Ray runs the task again)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import synth
from builder import build, ray_engine, validate
from tests.conftest import run
from tests.test_ray_stages import build_twice, ray, same_results  # skips without Ray


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ray") / "corpus.jsonl"
    synth.write_jsonl(path, 400, seed=3, error_rate=0.2)
    return path


@pytest.fixture(scope="module")
def local_results(corpus: Path) -> list[validate.UnitResult]:
    return [validate.check_unit(unit) for unit in units_of(corpus)]


def units_of(path: Path) -> list[validate.Unit]:
    units = validate.plan_units([path], chunk_bytes=100_000)
    assert len(units) > 4
    return units


CRASH_DIR: list[str] = []  # set by the tests; pickled with the function below


def crash_once_then_apply(work, item):  # sent by value: Ray workers cannot import tests/
    """The engine's task body, but the first task of each kind of work kills its worker."""
    name = getattr(work, "__qualname__", type(work).__name__)
    marker = Path(CRASH_DIR[0]) / name
    if not marker.exists():
        marker.write_text(repr(item)[:200])
        os._exit(1)
    return work(item)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two Ray nodes of one CPU each on this machine (loopback), shared by the module's tests."""
    from ray import cloudpickle
    from ray.cluster_utils import Cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    try:
        with ray_engine.session(address=nodes.address):
            yield nodes.address
    finally:
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture()
def crashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every kind of task kills its worker the first time it runs; Ray runs it again."""
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "CRASH_DIR", [str(crashes)])
    monkeypatch.setattr(ray_engine, "apply", crash_once_then_apply)
    return crashes


def test_cluster_is_two_loopback_nodes(cluster: str) -> None:
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == [ray_engine.LOOPBACK] * 2


def test_cluster_with_a_killed_worker_gives_the_local_results(
    cluster: str, corpus: Path, local_results: list[validate.UnitResult], crashing: Path
) -> None:
    same_results(list(ray_engine.imap(validate.check_unit, units_of(corpus))), local_results)
    assert [p.name for p in crashing.iterdir()] == ["check_unit"]


def test_cluster_with_killed_workers_rebuilds_the_committed_release(cluster: str, crashing: Path) -> None:
    result = run("build", "--check", "--engine", "ray", "--address", cluster)
    assert result.exit_code == 0, result.output
    assert "byte for byte identical" in result.output
    assert {"sorted_unit", "write_pieces"} <= {p.name for p in crashing.iterdir()}


def test_cluster_with_killed_workers_builds_a_generated_corpus(
    cluster: str, tmp_path: Path, crashing: Path
) -> None:
    build_twice(tmp_path, 1000, 8, "--address", cluster)
    assert {"sorted_unit", "write_pieces"} <= {p.name for p in crashing.iterdir()}
    assert len(build.shard_files(tmp_path / "local" / "zh-local-news" / "1.0.0", "jsonl")) >= 3


def test_missing_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ray_engine.EngineError, match=r"pip install 'newsset\[ray\]'"):
        ray_engine.ray_module()
