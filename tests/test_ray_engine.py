"""The Ray engine runs the local engine's work functions and gives the same results, on a local
Ray, on a two-node cluster simulated on this machine, and after a worker dies mid-task."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from benchmarks import synth
from builder import ray_engine, validate
from tests.conftest import run

# Every Ray process of these tests listens on loopback only (Ray reads this when imported).
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
try:
    import ray
except ImportError:  # pragma: no cover - .ci/run installs the extra, so CI never skips
    if os.environ.get("CI"):
        raise
    pytest.skip("Ray is an optional extra: pip install 'newsset[ray]'", allow_module_level=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ray") / "corpus.jsonl"
    synth.write_jsonl(path, 400, seed=3, error_rate=0.2)
    return path


def units_of(path: Path) -> list[validate.Unit]:
    units = validate.plan_units([path], chunk_bytes=100_000)
    assert len(units) > 4
    return units


def same_results(a: list[validate.UnitResult], b: list[validate.UnitResult]) -> None:
    assert [r.records for r in a] == [r.records for r in b]
    assert [sorted(r.diagnostics) for r in a] == [sorted(r.diagnostics) for r in b]
    for x, y in zip(a, b, strict=True):
        assert x.columns.keys() == y.columns.keys()
        for key in x.columns:
            assert (x.columns[key] == y.columns[key]).all(), key


CRASH_DIR: list[str] = []  # set by the test; pickled with the function below


def crash_once_then_apply(work, item):  # sent by value: Ray workers cannot import tests/
    """The engine's task, but the first run of each task in a fresh folder kills its worker."""
    marker = Path(CRASH_DIR[0]) / hashlib.sha256(repr(item).encode()).hexdigest()[:16]
    if not marker.exists():
        marker.write_text("crashed once")
        os._exit(1)
    return work(item)


@pytest.fixture(scope="module")
def local_results(corpus: Path) -> list[validate.UnitResult]:
    return [validate.check_unit(unit) for unit in units_of(corpus)]


def test_local_ray_gives_the_local_results(corpus: Path, local_results: list[validate.UnitResult]) -> None:
    with ray_engine.session(num_cpus=2):
        same_results(list(ray_engine.imap(validate.check_unit, units_of(corpus))), local_results)
    assert not ray.is_initialized()  # the session it started is shut down


def test_two_node_cluster_with_killed_workers(
    corpus: Path, local_results: list[validate.UnitResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from ray import cloudpickle
    from ray.cluster_utils import Cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        with ray_engine.session(address=cluster.address):
            assert [n["NodeManagerAddress"] for n in ray.nodes()] == [ray_engine.LOOPBACK] * 2
            same_results(list(ray_engine.imap(validate.check_unit, units_of(corpus))), local_results)

            # Every task's first run kills its worker: Ray runs it again, the output is the same.
            crashes = tmp_path / "crashes"
            crashes.mkdir()
            monkeypatch.setattr(sys.modules[__name__], "CRASH_DIR", [str(crashes)])
            monkeypatch.setattr(ray_engine, "apply", crash_once_then_apply)
            same_results(list(ray_engine.imap(validate.check_unit, units_of(corpus))), local_results)
            assert len(list(crashes.iterdir())) == len(units_of(corpus))

            # The committed release, rebuilt by the cluster with crashing workers, byte for byte.
            for old in crashes.iterdir():
                old.unlink()
            result = run("build", "--check", "--engine", "ray", "--address", cluster.address)
            assert result.exit_code == 0, result.output
            assert "byte for byte identical" in result.output
            assert list(crashes.iterdir()), "no build task ran on the cluster"
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_validate_cli_on_ray_prints_what_local_prints(corpus: Path) -> None:
    local = run("validate", corpus, "--format", "json")
    on_ray = run("validate", corpus, "--format", "json", "--engine", "ray")
    assert on_ray.exit_code == local.exit_code == 1
    assert on_ray.stdout == local.stdout


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
