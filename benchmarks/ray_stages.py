"""Seconds and bytes of each Ray Data stage of `newsset build --engine ray`, on a generated corpus.

    python benchmarks/ray_stages.py --records 20000      # about 100 MB of JSONL, local Ray

Each stage is run on its own and materialised (stage 1 twice: the first run starts Ray's
workers), so that its output's size in Ray's object store
(`Dataset.size_bytes`) is what the next step reads or shuffles; what travels to the driver is
counted from the rows it receives. The figures feed docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only

from benchmarks import synth  # noqa: E402
from builder import config, ray_engine, ray_stages, runs, validate  # noqa: E402

MB = 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--cpus", type=int, default=os.cpu_count())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsset-ray-bench-") as work:
        corpus = Path(work) / "corpus"
        synth.write_corpus(corpus, args.records, seed=1, files=8)
        source = sum(p.stat().st_size for p in corpus.iterdir())
        with ray_engine.session(num_cpus=args.cpus):
            rows = measure(corpus, Path(work) / "data", args.records)
    print(f"{args.records:,} records, {source / MB:,.0f} MB of JSONL, local Ray with {args.cpus} CPUs\n")
    print("| step | seconds | records/s | bytes out | bytes/record | moved how |")
    print("|---|---:|---:|---:|---:|---|")
    for name, seconds, nbytes, how in rows:
        rate = f"{args.records / seconds:,.0f}" if seconds else ""
        print(
            f"| {name} | {seconds:.1f} | {rate} | {nbytes / MB:,.1f} MB | {nbytes / args.records:,.0f} | {how} |"
        )


def timed(step):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = step()
    return out, time.perf_counter() - start


def measure(corpus: Path, data_dir: Path, records: int) -> list[tuple[str, float, float, str]]:
    units = validate.plan_units([corpus], runs.RUN_BYTES, runs.RUN_FILES)
    _, cold = timed(lambda: ray_stages.checked(units, runs.sorted_unit))  # starts the workers
    checked, t_check = timed(lambda: ray_stages.checked(units, runs.sorted_unit))
    keys, t_keys = timed(
        lambda: checked.map_batches(ray_stages.key_rows, batch_format="pyarrow").materialize()
    )
    pairs = keys.map_batches(ray_stages.kind_keys, batch_format="pyarrow").materialize()
    repeated, t_group = timed(lambda: ray_stages.repeated_keys(keys))
    offsets = ray_stages.summarise(units, checked, validate.Report())
    found, t_corpus = timed(lambda: ray_stages.corpus_diagnostics(units, checked, offsets))
    with_rows = checked.map_batches(ray_stages.record_rows, batch_format="pyarrow").materialize()
    ordered, t_sort = timed(lambda: with_rows.sort(ray_stages.SORT_COLUMNS).materialize())
    report = validate.Report()
    staged = ray_stages.Sorted(
        report, ordered.to_arrow_refs(), [b.num_rows for b in ray_stages.tables(ordered)]
    )
    settings = config.Config().build
    _, t_write = timed(lambda: staged.write_data(data_dir, settings))
    written = sum(p.stat().st_size for p in data_dir.iterdir())
    repeated_bytes = sum(len(v) for v in repeated.values()) * 9
    return [
        ("1 check, first run (starts the workers)", cold, checked.size_bytes(), "stays on the workers"),
        (
            "1 check (parse, validate, normalise, sort each unit)",
            t_check,
            checked.size_bytes(),
            "stays on the workers",
        ),
        ("2a keys per record (hashes, band keys, sketch)", t_keys, keys.size_bytes(), "stays on the workers"),
        ("2b group (kind, key) pairs: sort-shuffle", t_group, pairs.size_bytes(), "shuffled"),
        ("2c repeated keys to the driver", 0.0, repeated_bytes, "to the driver"),
        (
            f"2d corpus checks, whole step ({len(found)} diagnostics)",
            t_corpus,
            0.0,
            "candidates to the driver",
        ),
        ("3 sort records by (date, page, id)", t_sort, with_rows.size_bytes(), "shuffled"),
        ("4a sizes streamed to the driver for the cuts", 0.0, 8.0 * records, "to the driver"),
        ("4b write Parquet + JSONL shards", t_write, written, "written by the workers"),
    ]


if __name__ == "__main__":
    main()
