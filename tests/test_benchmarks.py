"""The benchmark script runs end to end on a small corpus and prints its table (no timings are
asserted: speed is measured by running benchmarks/run.py on a quiet machine)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_benchmark_prints_every_run_and_the_ratios() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--records",
            "300",
            "--repeat",
            "2",
            "--skip",
            "frictionless validate",
            "--skip",
            "datasets from_json→parquet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for name in (
        "newsset validate",
        "newsset validate, NEWSSET_SCREENS=numpy",
        "newsset build",
        "jsonschema loop",
        "orjson parse",
        "pyarrow json→parquet",
    ):
        row = next(line for line in proc.stdout.splitlines() if line.startswith(f"| {name} |"))
        assert row.endswith("| 0 |"), row  # the run itself succeeded
    assert "- validate vs jsonschema loop:" in proc.stdout
    assert "- validate, C screens vs NEWSSET_SCREENS=numpy:" in proc.stdout
    assert "Corpus: 300 records" in proc.stdout
    assert "the fastest of 2 runs" in proc.stdout
    assert proc.stderr.count("300 records, newsset validate: ") == 2


def test_repeated_runs_keep_the_fastest_time_and_the_largest_memory() -> None:
    from benchmarks.run import Result

    first, second = Result("build", 2.0, 10.0, 0, 5.0), Result("build", 1.5, 20.0, 1, None)
    assert first.with_run(second) == Result("build", 1.5, 20.0, 1, 5.0)
