"""Speed and memory of newsset against baselines measured in the same run, on one synthetic corpus.

    python benchmarks/run.py --records 200000        # about 1 GB of JSONL

Every figure comes from a separate process (so its peak RSS is its own): newsset's validate and
build, and the anchors the goals are stated against (a plain `jsonschema` loop, `frictionless
validate`, orjson parsing, orjson + jsonschema-rs, pyarrow's JSON reader + Parquet writer, and
the `datasets` route). The table gives seconds, records/s, MB/s, peak RSS and the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import synth  # noqa: E402

SCHEMA = REPO / "schema" / "article.schema.json"

# Each anchor is a small program run as `python -c`, with the corpus path as argv[1].
JSONSCHEMA_LOOP = f"""
import json, sys, jsonschema
schema = json.load(open({str(SCHEMA)!r}))
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    n += sum(1 for _ in v.iter_errors(json.loads(line)))
print(n)
"""
ORJSON_PARSE = """
import sys, orjson
n = 0
for line in open(sys.argv[1], "rb"):
    orjson.loads(line); n += 1
print(n)
"""
ORJSON_RS = f"""
import json, sys, orjson, jsonschema_rs
v = jsonschema_rs.validator_for(json.load(open({str(SCHEMA)!r})), validate_formats=True)
print(sum(1 for line in open(sys.argv[1], "rb") if not v.is_valid(orjson.loads(line))))
"""
PYARROW_BARE = """
import sys, pyarrow.json as pj, pyarrow.parquet as pq
table = pj.read_json(sys.argv[1])
pq.write_table(table, sys.argv[2], compression="zstd")
print(table.num_rows)
"""
DATASETS_ROUTE = """
import sys, datasets
ds = datasets.Dataset.from_json(sys.argv[1], cache_dir=sys.argv[3])
ds.to_parquet(sys.argv[2])
print(len(ds))
"""
RUSAGE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code, file=sys.stderr)
"""


@dataclass
class Result:
    name: str
    seconds: float
    peak_mb: float
    exit_code: int


def measure(name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Result:
    """Run a command in its own process tree; time it and read its peak resident memory."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUSAGE, *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    seconds = time.perf_counter() - started
    last = proc.stderr.strip().splitlines()[-1].split()
    return Result(name, seconds, int(last[0]) / 1024, int(last[1]))


def table(results: list[Result], records: int, size: int) -> str:
    rows = ["| run | seconds | records/s | MB/s | peak RSS (MB) | exit |", "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(
            f"| {r.name} | {r.seconds:.2f} | {records / r.seconds:,.0f} | {size / 1e6 / r.seconds:,.1f} | "
            f"{r.peak_mb:,.0f} | {r.exit_code} |"
        )
    return "\n".join(rows)


def ratios(by_name: dict[str, Result]) -> list[str]:
    """The goals as ratios of this run's own figures."""
    out = []

    def ratio(label: str, a: str, b: str, goal: str) -> None:
        if a in by_name and b in by_name:
            value = by_name[b].seconds / by_name[a].seconds
            out.append(f"- {label}: {value:.1f}× (goal {goal})")

    ratio("validate vs jsonschema loop", "newsset validate", "jsonschema loop", "≥ 10×")
    ratio("validate vs frictionless", "newsset validate", "frictionless validate", "≥ 3×")
    ratio(
        "build vs bare pyarrow (time ratio, lower is better)", "pyarrow json→parquet", "newsset build", "≤ 2"
    )
    ratio("build vs datasets route", "newsset build", "datasets from_json→parquet", "> 1×")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of records given a known error")
    parser.add_argument(
        "--skip", action="append", default=[], help="a run to leave out (by name); repeatable"
    )
    parser.add_argument("--workdir", type=Path, help="keep the corpus and outputs here")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsset-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.exists() or corpus.stat().st_size == 0:
        synth.write_jsonl(corpus, args.records, args.seed, args.error_rate)
    size = corpus.stat().st_size
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "NEWSSET_NO_PROGRESS": "1",
        "PYTHONPATH": str(REPO),
    }
    out = work / "out"
    runs = {
        "newsset validate": [sys.executable, "-m", "builder", "validate", str(corpus), "--format", "json"],
        "newsset build": [
            sys.executable,
            "-m",
            "builder",
            "build",
            "--articles",
            str(corpus),
            "--out",
            str(out / "dist"),
            "--version",
            "1.0.0",
            "--changelog",
            str(out / "CHANGELOG.md"),
        ],
        "jsonschema loop": [sys.executable, "-c", JSONSCHEMA_LOOP, str(corpus)],
        # frictionless refuses absolute paths as unsafe: it runs in the work folder
        "frictionless validate": [shutil.which("frictionless") or "frictionless", "validate", corpus.name],
        "orjson parse": [sys.executable, "-c", ORJSON_PARSE, str(corpus)],
        "orjson + jsonschema-rs": [sys.executable, "-c", ORJSON_RS, str(corpus)],
        "pyarrow json→parquet": [sys.executable, "-c", PYARROW_BARE, str(corpus), str(out / "bare.parquet")],
        "datasets from_json→parquet": [
            sys.executable,
            "-c",
            DATASETS_ROUTE,
            str(corpus),
            str(out / "datasets.parquet"),
            str(out / "cache"),
        ],
    }
    results = []
    for name, argv in runs.items():
        if name in args.skip:
            continue
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        results.append(measure(name, argv, env, work))
        print(f"{name}: {results[-1].seconds:.2f} s", file=sys.stderr)
    print(
        f"Corpus: {args.records:,} records, {size / 1e6:,.0f} MB of JSONL (seed {args.seed}, "
        f"error rate {args.error_rate}), {os.cpu_count()} cores.\n"
    )
    print(table(results, args.records, size))
    print()
    print("\n".join(ratios({r.name: r for r in results})))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
