"""Speed and memory of newsset against baselines measured in the same run, on one synthetic corpus.

    python benchmarks/run.py --records 200000        # about 1 GB of JSONL
    python benchmarks/run.py --sizes 25000,200000,1000000 --workdir /tmp/nb   # memory vs size

Every figure comes from a separate process: newsset's validate and build, and the anchors the
goals are stated against (a plain `jsonschema` loop, `frictionless validate`, orjson parsing,
orjson + jsonschema-rs, pyarrow's JSON reader + Parquet writer, and the `datasets` route). The
table gives seconds, records/s, MB/s, memory and the ratios. Memory is given twice: the peak RSS
of the largest single process (getrusage), and the peak of the whole process tree (the command
and its worker processes) sampled every 0.2 s as the sum of their PSS, which counts the pages
that forked workers share once (Linux only; "n/a" elsewhere).

`--sizes` runs newsset validate and build on corpora of several sizes and prints one table, to
show whether memory stays flat as the corpus grows; each corpus is deleted after its runs.

`--repeat N` runs every command N times, in rounds (each command once per round), and reports
for each its fastest time and its largest memory: on a shared machine the fastest run is the one
the other work disturbed least.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import synth  # noqa: E402

SCHEMA = REPO / "schema" / "article.schema.json"
INTERVAL = 0.2  # seconds between samples of a process tree's memory: reading PSS costs time

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
    tree_mb: float | None = None

    def with_run(self, other: Result) -> Result:
        """Two runs of one command as one: the faster time (the run the machine disturbed
        least), the larger memory and the worse exit code."""
        trees = [t for t in (self.tree_mb, other.tree_mb) if t is not None]
        return Result(
            self.name,
            min(self.seconds, other.seconds),
            max(self.peak_mb, other.peak_mb),
            self.exit_code or other.exit_code,
            max(trees) if trees else None,
        )


def children(pid: int) -> dict[int, list[int]]:
    """parent pid → child pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            out.setdefault(parent, []).append(int(entry))
    return out


def tree_pss_kb(pid: int) -> int:
    """The summed PSS (kB) of a process and all its descendants."""
    tree, todo, total = children(pid), [pid], 0
    while todo:
        current = todo.pop()
        todo.extend(tree.get(current, []))
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return total


class TreeSampler(threading.Thread):
    """Samples the memory of a process tree every INTERVAL seconds and keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()
        self.works = Path(f"/proc/{pid}/smaps_rollup").exists()

    def run(self) -> None:
        while self.works and not self.done.wait(INTERVAL):
            self.peak_kb = max(self.peak_kb, tree_pss_kb(self.pid))


def measure(name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Result:
    """Run a command in its own process tree; time it and read its peak memory (see the top)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUSAGE, *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    last = stderr.strip().splitlines()[-1].split()
    tree = sampler.peak_kb / 1024 if sampler.works else None
    return Result(name, seconds, int(last[0]) / 1024, int(last[1]), tree)


def megabytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def table(results: list[Result], records: int, size: int) -> str:
    rows = [
        "| run | seconds | records/s | MB/s | peak RSS, largest process (MB) | peak PSS, all processes (MB) | exit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.seconds:.2f} | {records / r.seconds:,.0f} | {size / 1e6 / r.seconds:,.1f} | "
            f"{r.peak_mb:,.0f} | {megabytes(r.tree_mb)} | {r.exit_code} |"
        )
    return "\n".join(rows)


def sizes_table(rows: list[tuple[int, int, dict[str, Result]]]) -> str:
    """One line per corpus size: seconds and memory of validate and build."""
    out = [
        "| articles | JSONL (MB) | validate (s) | validate RSS / PSS (MB) | build (s) | build RSS / PSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for records, size, by_name in rows:
        cells = []
        for name in ("newsset validate", "newsset build"):
            r = by_name.get(name)
            cells += (
                ["–", "–"]
                if r is None
                else [
                    f"{r.seconds:.1f}" + ("" if r.exit_code == 0 else f" (exit {r.exit_code})"),
                    f"{r.peak_mb:,.0f} / {megabytes(r.tree_mb)}",
                ]
            )
        out.append(f"| {records:,} | {size / 1e6:,.0f} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def ratios(by_name: dict[str, Result]) -> list[str]:
    """The goals as ratios of this run's own figures."""
    out = []

    def ratio(label: str, a: str, b: str, goal: str = "") -> None:
        if a in by_name and b in by_name:
            value = by_name[b].seconds / by_name[a].seconds
            out.append(f"- {label}: {value:.1f}×" + (f" (goal {goal})" if goal else ""))

    ratio("validate vs jsonschema loop", "newsset validate", "jsonschema loop", "≥ 10×")
    ratio(
        "validate, C screens vs NEWSSET_SCREENS=numpy",
        "newsset validate",
        "newsset validate, NEWSSET_SCREENS=numpy",
    )
    ratio("validate vs frictionless", "newsset validate", "frictionless validate", "≥ 3×")
    ratio(
        "build vs bare pyarrow (time ratio, lower is better)", "pyarrow json→parquet", "newsset build", "≤ 2"
    )
    ratio("build vs datasets route", "newsset build", "datasets from_json→parquet", "> 1×")
    return out


def commands(corpus: Path, out: Path) -> dict[str, list[str]]:
    """Each run by name: newsset's commands and the anchors."""
    return {
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
        # the same run without builder/_scan.c: the screens in numpy, the other rules' in Python
        "newsset validate, NEWSSET_SCREENS=numpy": [
            "env",
            "NEWSSET_SCREENS=numpy",
            *[sys.executable, "-m", "builder", "validate", str(corpus), "--format", "json"],
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


def run_all(work: Path, records: int, args: argparse.Namespace, names: list[str]) -> tuple[int, list[Result]]:
    """Generate the corpus (unless it is there) and run each named command on it."""
    corpus = work / "corpus.jsonl"
    if not corpus.exists() or corpus.stat().st_size == 0:
        synth.write_jsonl(corpus, records, args.seed, args.error_rate)
    size = corpus.stat().st_size
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "NEWSSET_NO_PROGRESS": "1",
        "PYTHONPATH": str(REPO),
    }
    out = work / "out"
    chosen = {
        name: argv for name, argv in commands(corpus, out).items() if name in names and name not in args.skip
    }
    results: dict[str, Result] = {}
    for _ in range(args.repeat):  # each command once per round, so that noise spreads over all
        for name, argv in chosen.items():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            result = measure(name, argv, env, work)
            results[name] = results[name].with_run(result) if name in results else result
            print(f"{records:,} records, {name}: {result.seconds:.2f} s", file=sys.stderr)
    shutil.rmtree(out, ignore_errors=True)
    return size, list(results.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument(
        "--sizes", help="comma-separated corpus sizes: newsset validate and build on each, memory vs size"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of records given a known error")
    parser.add_argument(
        "--skip", action="append", default=[], help="a run to leave out (by name); repeatable"
    )
    parser.add_argument("--workdir", type=Path, help="keep the corpus and outputs here")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run every command this many times; report its fastest run"
    )
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsset-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    header = f"error rate {args.error_rate}, seed {args.seed}), {os.cpu_count()} cores"
    header += f", the fastest of {args.repeat} runs." if args.repeat > 1 else "."
    if args.sizes:
        rows = []
        for records in (int(n) for n in args.sizes.split(",")):
            folder = work / f"sizes-{records}"
            folder.mkdir(exist_ok=True)
            size, results = run_all(folder, records, args, ["newsset validate", "newsset build"])
            rows.append((records, size, {r.name: r for r in results}))
            shutil.rmtree(folder, ignore_errors=True)  # a million articles are 5 GB
        print(f"Corpora of {args.sizes} records (synthetic, {header}\n")
        print(sizes_table(rows))
    else:
        size, results = run_all(work, args.records, args, list(commands(work, work)))
        print(f"Corpus: {args.records:,} records, {size / 1e6:,.0f} MB of JSONL (synthetic, {header}\n")
        print(table(results, args.records, size))
        print()
        print("\n".join(ratios({r.name: r for r in results})))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
