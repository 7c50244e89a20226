"""The pipeline as Ray Data stages: `newsset validate` and `newsset build` on a Ray cluster.

The stages call the functions the local engine calls; only where the data lives changes.

1. **check** — the units (`validate.plan_units`) become a Dataset; `map_batches` runs each
   unit's work (`validate.check_unit`, or `runs.sorted_unit` for the build) on a worker. A
   unit's result (its diagnostics, the corpus checks' keys, its sorted records) stays in Ray's
   object store.
2. **corpus checks** — the keys of every record (id hash, body hash and each LSH band key,
   builder/neardup.py) are grouped by sorting the (kind, key) pairs across the cluster: a
   range-partitioned shuffle of 9-byte rows, as plain tasks (Ray's hash `groupby` starts
   aggregator actors, seconds on a small cluster). Repeats are found inside each sorted block
   and, by the driver, across the blocks' edges (two rows a block); only keys that occur more
   than once come back. The workers pick the records that carry one, and the driver runs
   `corpus.CorpusIndex` over just those candidates (in input order), which reads them again
   and says what it says locally.
3. **sort** — the valid records (date, page, id, JSONL size, digest, line) are sorted by
   (date, page, id) with Ray Data's sort (sampled range partitioning).
4. **shards** — the driver streams the sorted size column a block at a time through
   `build.ShardCuts` (the cuts `build.plan_shards` makes); each shard is a Ray task that
   writes its Parquet and JSONL files with `runs.write_counted_shard` (build.write_shard) and
   returns the card's tally. The driver adds the tallies in shard order; the release code
   writes the card, metadata and checksums as it does for the local engine.

Each unit's and each shard's work goes through `ray_engine.apply`, the Core engine's task body.
Ray retries a task whose worker dies; as every task is a pure function of its input, the
release is the same bytes.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from builder import build, card, corpus, neardup, ray_engine, runs, validate, workers
from builder.config import BuildConfig
from builder.diff import DIGESTS

SORT_COLUMNS = ["date", "no_page", "page", "id"]  # build.sort_key as columns
KINDS = ("id_hash", "body_hash", *(f"band{b}" for b in range(neardup.BANDS)))
KEY_COLUMNS = ["file", "line", "offset", "id_hash", "body_hash"]
SKETCH_BYTES = neardup.BINS * 4
SUMMARY_SCHEMA = pa.schema(
    [
        ("unit", pa.int64()),
        ("files", pa.int64()),
        ("records", pa.int64()),
        ("lines", pa.int64()),
        ("diagnostics", pa.binary()),
    ]
)
ROW_SCHEMA = pa.schema(
    [
        ("date", pa.string()),
        ("no_page", pa.bool_()),
        ("page", pa.int64()),
        ("id", pa.string()),
        ("size", pa.int64()),
        ("digest", pa.binary(16)),
        (build.LINE_COLUMN, pa.string()),
    ]
)


def data_module() -> Any:
    """`ray.data`, quiet and order-preserving (results come back in input order)."""
    data = ray_engine.ray_module().data
    context = data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # shuffles (the sorts) as plain tasks: no aggregator actors to start, nothing but tasks to retry
    context.shuffle_strategy = data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return data


def tables(dataset: Any) -> Iterator[pa.Table]:
    """A dataset's blocks as Arrow tables, in order, one at a time."""
    yield from dataset.iter_batches(batch_format="pyarrow", batch_size=None)


# --- stage 1: check each unit --------------------------------------------------------------


def check_batch(batch: pa.Table, work: Callable[..., Any], apply: Callable[..., Any]) -> pa.Table:
    """Run `work` on each unit of the batch; keep each result, pickled, beside its unit number."""
    results = [
        pickle.dumps(apply(work, pickle.loads(blob)), protocol=5) for blob in batch.column("task").to_pylist()
    ]
    return pa.table({"unit": batch.column("unit"), "result": pa.array(results, pa.large_binary())})


def checked(units: list[validate.Unit], work: Callable[[validate.Unit], validate.UnitResult]) -> Any:
    """Stage 1, materialised: one row per unit with its pickled UnitResult."""
    data = data_module()
    items = [{"unit": i, "task": pickle.dumps(u, protocol=5)} for i, u in enumerate(units)]
    step = functools.partial(check_batch, work=work, apply=ray_engine.apply)
    return (
        data.from_items(items, override_num_blocks=max(1, len(items)))
        .map_batches(step, batch_size=1, batch_format="pyarrow")
        .materialize()
    )


def results_of(batch: pa.Table) -> Iterator[tuple[int, validate.UnitResult]]:
    for unit, blob in zip(batch.column("unit").to_pylist(), batch.column("result").to_pylist(), strict=True):
        yield unit, pickle.loads(blob)


def summary_rows(batch: pa.Table) -> pa.Table:
    """What the report needs of each unit: its counts and diagnostics (small)."""
    rows = [
        {
            "unit": u,
            "files": r.files,
            "records": r.records,
            "lines": r.lines,
            "diagnostics": pickle.dumps(r.diagnostics),
        }
        for u, r in results_of(batch)
    ]
    return pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)


# --- stage 2: corpus checks ----------------------------------------------------------------


def key_rows(batch: pa.Table) -> pa.Table:
    """One row per record: where it is (unit, ordinal, file, line, offset), its hashes, its band
    keys and whether its body is long enough to be judged, and its sketch."""
    parts = [key_table(unit, result.columns) for unit, result in results_of(batch)]
    return pa.concat_tables(parts or [key_table(0, corpus.KeyColumns().arrays())])


def key_table(unit: int, columns: dict[str, np.ndarray]) -> pa.Table:
    count = len(columns["id_hash"])
    sketch = columns["sketch"]
    table = {
        "unit": np.full(count, unit, np.int64),
        "ordinal": np.arange(count, dtype=np.int64),
        **{name: columns[name] for name in KEY_COLUMNS},
        "judged": (sketch != neardup.EMPTY).sum(axis=1) >= neardup.MIN_FILLED,
    }
    for band in range(neardup.BANDS):
        table[f"band{band}"] = neardup.band_key(sketch, band)
    data = pa.py_buffer(np.ascontiguousarray(sketch, dtype=np.uint32).tobytes())
    table["sketch"] = pa.FixedSizeBinaryArray.from_buffers(pa.binary(SKETCH_BYTES), count, [None, data])
    return pa.table(table)


def sketch_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """The sketches of a `sketch` column as one row of `neardup.BINS` values each."""
    array = column.combine_chunks()
    values = np.frombuffer(array.buffers()[1], np.uint32, offset=array.offset * SKETCH_BYTES)
    return values[: len(array) * neardup.BINS].reshape(-1, neardup.BINS)


def kind_keys(batch: pa.Table) -> pa.Table:
    """The keys a corpus check groups by, one row per (kind, key): ids and bodies of the records
    that have one, band keys of the records long enough to be judged."""
    kinds, keys = [], []
    judged = batch.column("judged").to_numpy(zero_copy_only=False)
    for number, name in enumerate(KINDS):
        values = batch.column(name).to_numpy()
        values = values[judged] if name.startswith("band") else values[values != 0]
        kinds.append(np.full(len(values), number, np.uint8))
        keys.append(values)
    return pa.table({"kind": np.concatenate(kinds), "key": np.concatenate(keys).astype(np.uint64)})


def candidate_rows(batch: pa.Table, repeated: dict[int, np.ndarray]) -> pa.Table:
    """The records that share a key with another record: the only ones a corpus check can report."""
    judged = batch.column("judged").to_numpy(zero_copy_only=False)
    keep = np.zeros(batch.num_rows, dtype=bool)
    for number, name in enumerate(KINDS):
        hits = np.isin(batch.column(name).to_numpy(), repeated.get(number, np.empty(0, np.uint64)))
        keep |= hits & judged if name.startswith("band") else hits
    return batch.filter(pa.array(keep)).select(["unit", "ordinal", *KEY_COLUMNS, "sketch"])


def run_ends(batch: pa.Table) -> pa.Table:
    """Of a block of (kind, key) rows sorted by both: each key that repeats inside the block,
    and the block's first and last row (`edge`), where a run of equal keys may cross into the
    next block."""
    kinds, keys = batch.column("kind").to_numpy(), batch.column("key").to_numpy()
    same = np.flatnonzero((kinds[1:] == kinds[:-1]) & (keys[1:] == keys[:-1])) + 1
    same = same[np.r_[True, np.diff(same) > 1]] if len(same) else same  # once per run
    edges = np.array([0, len(keys) - 1]) if len(keys) else np.empty(0, np.int64)
    at = np.concatenate([same, edges]).astype(np.int64)
    edge = np.r_[np.zeros(len(same), bool), np.ones(len(edges), bool)]
    return pa.table({"kind": kinds[at], "key": keys[at], "edge": edge})


def repeated_keys(keys: Any) -> dict[int, np.ndarray]:
    """Each kind's keys that more than one record has: the (kind, key) pairs sorted across the
    cluster (range partitioning), repeats found inside each block, and at the blocks' edges by
    the driver (two rows a block)."""
    pairs = keys.map_batches(kind_keys, batch_format="pyarrow").sort(["kind", "key"])
    found: list[tuple[np.ndarray, np.ndarray]] = []
    last: tuple[int, int] | None = None
    for batch in tables(pairs.map_batches(run_ends, batch_format="pyarrow")):
        edge = batch.column("edge").to_numpy(zero_copy_only=False)
        kinds, values = batch.column("kind").to_numpy(), batch.column("key").to_numpy()
        found.append((kinds[~edge], values[~edge]))
        ends = list(zip(kinds[edge].tolist(), values[edge].tolist(), strict=True))
        if ends:
            if last is not None and ends[0] == last:
                found.append((np.array([last[0]]), np.array([last[1]], np.uint64)))
            last = ends[-1]
    out: dict[int, np.ndarray] = {}
    if found:
        kinds = np.concatenate([k for k, _ in found])
        values = np.concatenate([v for _, v in found]).astype(np.uint64)
        for number in np.unique(kinds):
            out[int(number)] = np.unique(values[kinds == number])
    return out


def corpus_diagnostics(units: list[validate.Unit], checked_units: Any, offsets: list[int]) -> list[Any]:
    """D301–D303 over the whole corpus, as `corpus.CorpusIndex` finds them locally (`offsets`:
    each unit's lines before it, validate.LineOffsets)."""
    keys = checked_units.map_batches(key_rows, batch_format="pyarrow").materialize()
    repeated = repeated_keys(keys)
    if not repeated:
        return []
    step = functools.partial(candidate_rows, repeated=repeated)
    parts = list(tables(keys.map_batches(step, batch_format="pyarrow")))
    if not parts:
        return []
    found = pa.concat_tables(parts).sort_by([("unit", "ascending"), ("ordinal", "ascending")])
    index = corpus.CorpusIndex()
    unit_column = found.column("unit").to_numpy()
    for unit in np.unique(unit_column):
        part = found.filter(pa.array(unit_column == unit))
        columns = {name: part.column(name).to_numpy() for name in KEY_COLUMNS}
        columns["sketch"] = sketch_matrix(part.column("sketch"))
        columns["line"] = columns["line"] + np.uint32(offsets[int(unit)])
        index.add(units[int(unit)].files, columns)
    return index.diagnostics()


def check(
    paths: Iterable[str | os.PathLike[str]],
    work: Callable[[validate.Unit], validate.UnitResult],
    chunk_bytes: int | None = None,
    files: int | None = None,
) -> tuple[validate.Report, Any]:
    """Stages 1 and 2: the report, and the checked units (still in the object store)."""
    units = validate.plan_units(paths, chunk_bytes, files)
    report = validate.Report()
    if not units:
        return report, None
    checked_units = checked(units, work)
    offsets = summarise(units, checked_units, report)
    report.diagnostics.extend(corpus_diagnostics(units, checked_units, offsets))
    return report, checked_units


def summarise(units: list[validate.Unit], checked_units: Any, report: validate.Report) -> list[int]:
    """Add each unit's counts and diagnostics to the report, in unit order, its lines moved to
    their place in the file; return each unit's line offset (validate.LineOffsets)."""
    batches = tables(checked_units.map_batches(summary_rows, batch_format="pyarrow"))
    rows = [row for batch in batches for row in batch.to_pylist()]
    placed, offsets = validate.LineOffsets(), []
    for row in sorted(rows, key=lambda r: r["unit"]):  # a range's lines follow those before it
        offsets.append(placed.next(units[row["unit"]], row["lines"]))
        report.files += row["files"]
        report.records += row["records"]
        result = validate.UnitResult(diagnostics=pickle.loads(row["diagnostics"]))
        report.diagnostics.extend(validate.place(result, offsets[-1]).diagnostics)
    return offsets


def validate_paths(paths: Iterable[str | os.PathLike[str]]) -> validate.Report:
    """`validate.validate_paths` as Ray Data stages: the same report."""
    return check(paths, validate.check_unit)[0]


# --- stage 3: the global sort --------------------------------------------------------------


def record_rows(batch: pa.Table) -> pa.Table:
    """The sorted records of each unit (runs.run_tables), with the sort key as columns."""
    parts = []
    for _unit, result in results_of(batch):
        if result.output is None:
            continue
        keys, lines = result.output
        page = keys.column("page")
        columns = [keys.column("date"), page.is_null(), page.fill_null(0), keys.column("id")]
        columns += [keys.column("size"), keys.column("digest"), lines.column(build.LINE_COLUMN)]
        parts.append(pa.Table.from_arrays(columns, schema=ROW_SCHEMA))
    return pa.concat_tables([ROW_SCHEMA.empty_table(), *parts])


@dataclass
class Sorted:
    """The validated corpus as sorted blocks in Ray's object store; a Side of a comparison
    (diff.Side) and the source of the release's shards, as runs.Staged is locally."""

    report: validate.Report
    blocks: list[Any]
    block_rows: list[int]

    @property
    def runs(self) -> list[Any]:
        return self.blocks

    @property
    def count(self) -> int:
        return sum(self.block_rows)

    def block(self, index: int, columns: Sequence[str] | None = None) -> pa.Table:
        """One sorted block, or some of its columns (selected where the block is)."""
        ray = ray_engine.ray_module()
        if columns is None:
            return ray.get(self.blocks[index])
        return ray.get(ray.remote(select_columns).remote(self.blocks[index], list(columns)))

    def span(self) -> tuple[str, str]:
        full = [i for i, n in enumerate(self.block_rows) if n]
        if not full:
            return ("", "")
        first, last = (self.block(i, ["date"]).column("date") for i in (full[0], full[-1]))
        return first[0].as_py(), last[-1].as_py()

    def drop_runs(self) -> None:
        """The sorted blocks are no longer needed once the shards are written: let Ray free
        them (they are references into its object store)."""
        self.blocks = []
        self.block_rows = []

    def digests(self) -> Iterator[pa.Table]:
        """Ids, digests and places, a block at a time."""
        at = 0
        for index, rows in enumerate(self.block_rows):
            if not rows:
                continue
            table = self.block(index, ["id", "digest"])
            places = pa.array(np.arange(at, at + rows, dtype=np.int64))
            yield pa.Table.from_arrays([table.column("id"), table.column("digest"), places], schema=DIGESTS)
            at += rows

    def ids(self) -> Iterator[pa.Array]:
        """The ids, a block at a time."""
        for index, rows in enumerate(self.block_rows):
            if rows:
                yield self.block(index, ["id"]).column("id").combine_chunks()

    def records_at(self, at: Sequence[int]) -> list[dict[str, Any]]:
        starts = np.cumsum([0, *self.block_rows])
        where = np.searchsorted(starts, at, side="right") - 1
        out, cached = [], (-1, None)
        for place, index in zip(at, where.tolist(), strict=True):
            if cached[0] != index:
                cached = (index, self.block(index).column(build.LINE_COLUMN))
            out.append(json.loads(cached[1][place - int(starts[index])].as_py()))
        return out

    def write_data(
        self,
        data_dir: Path,
        settings: BuildConfig,
        jobs: int = 1,
        progress: bool | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> card.Stats:
        """Stage 4: cut the shards from the sizes, streamed a block at a time, and write them as
        Ray tasks; the card's statistics from their tallies, in shard order. `meanwhile`: see
        `workers.imap`."""
        data_dir.mkdir(parents=True, exist_ok=True)
        ray = ray_engine.ray_module()
        cuts = build.ShardCuts(settings.max_shard_bytes)
        sizes = ray.remote(block_sizes)
        for block_sizes_ref in [sizes.remote(block) for block in self.blocks]:
            cuts.add(ray.get(block_sizes_ref))
        shards = cuts.shards()
        jobs_todo = [
            ShardPieces(index, len(shards), *self.pieces(shard), str(data_dir), settings)
            for index, shard in enumerate(shards)
        ]
        tally = card.Tally()
        for part in workers.imap(write_pieces, jobs_todo, len(jobs_todo), meanwhile):
            tally.update(part)
        return tally.stats()

    def pieces(self, shard: range) -> tuple[tuple[Any, ...], tuple[tuple[int, int], ...]]:
        """The blocks a shard's rows are in, and the rows of each that it takes."""
        blocks, bounds, start = [], [], 0
        for block, rows in zip(self.blocks, self.block_rows, strict=True):
            lo, hi = max(shard.start, start) - start, min(shard.stop, start + rows) - start
            if lo < hi:
                blocks.append(block)
                bounds.append((lo, hi))
            start += rows
        return tuple(blocks), tuple(bounds)


def block_sizes(block: pa.Table) -> np.ndarray:
    """The JSONL sizes of a sorted block's rows (8 bytes a row travel to the driver)."""
    return block.column("size").to_numpy() if block.num_rows else np.empty(0, np.int64)


@dataclass(frozen=True)
class ShardPieces:
    """One shard to write: rows [lo, hi) of each of its blocks, in order."""

    index: int
    count: int
    blocks: tuple[Any, ...]
    bounds: tuple[tuple[int, int], ...]
    data_dir: str
    settings: BuildConfig


def write_pieces(job: ShardPieces) -> card.Tally:
    """Write one shard from its blocks (fetched from the object store) and tally it."""
    ray = ray_engine.ray_module()
    lines = pa.chunked_array(
        [
            block.column(build.LINE_COLUMN).slice(lo, hi - lo)
            for block, (lo, hi) in zip(ray.get(list(job.blocks)), job.bounds, strict=True)
        ],
        pa.string(),
    )
    size = job.settings.row_group_rows
    groups = (runs.joined(lines.slice(at, size)) for at in range(0, len(lines), size))
    return runs.write_counted_shard(groups, job.index, job.count, Path(job.data_dir), job.settings)


@contextmanager
def stage(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Sorted]:
    """`runs.stage` as Ray Data stages: validate, check the corpus, sort. With errors nothing is
    sorted (`count` is 0)."""
    report, checked_units = check(paths, runs.sorted_unit, runs.RUN_BYTES, runs.RUN_FILES)
    if report.errors or checked_units is None:
        yield Sorted(report, [], [])
        return
    rows = checked_units.map_batches(record_rows, batch_format="pyarrow")
    ordered = rows.sort(SORT_COLUMNS).materialize()
    blocks = ordered.to_arrow_refs()
    ray = ray_engine.ray_module()
    counts = ray.get([ray.remote(num_rows).remote(block) for block in blocks])
    yield Sorted(report, blocks, counts)


def num_rows(block: pa.Table) -> int:
    return block.num_rows


def select_columns(block: pa.Table, columns: list[str]) -> pa.Table:
    return block.select(columns)
