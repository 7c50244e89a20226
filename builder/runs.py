"""Sorted runs: the build's records spilled to disk a unit of work at a time, then merged.

`stage` is the build's one pass over the corpus: validate's units in worker processes, through
`validate.check_units`, so the build checks exactly what `newsset validate` checks. Each worker
also normalises the records of its unit (`build.to_record`; for a JSONL line the C part can
vouch for, its line is made from the input line, `release_line`), sorts them by (date, page, id)
and writes them to a *run* in a temporary folder: an Arrow IPC file of their JSONL lines (each
with its newline, so that a row group's lines in order are its JSONL bytes) and a small one of
their keys (date, page, id, JSONL size and digest). A worker holds one unit's
records; no process holds the corpus.

Where a unit is a range of one local JSONL file, the run holds the keys with each line's place
in the file, and only the lines of the records whose release line the C part cannot make from
their input line (`write_input_run`):
the shard writers make the release lines again from the file (`InputReader`), which the pass has
just read into the page cache. The lines are then neither written to the disk a second time nor
read back, which took a sixth of a build's processor time, most of it the system's.

`write_data` merges the runs: it reads the keys of all runs, a batch per run at a time, to put
the rows in order and cut the shards, then writes the shards (a worker each) a row group at a
time, taking each row group's lines from the runs; build.write_shard writes the lines to the
JSONL shard and reads them as the schema's columns for the Parquet one. The card's statistics
are counted on the way.
"""

from __future__ import annotations

import bisect
import ctypes
import dataclasses
import functools
import heapq
import json
import mmap
import multiprocessing.process
import operator
import os
import stat
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from builder import build, card, keyfiles, locations, schema, screens, validate, workers
from builder.config import BuildConfig
from builder.diff import DIGESTS, line_digest
from builder.lengths import Lengths
from builder.progress import Progress
from builder.scratch import Scratch
from builder.sources import plain_jsonl_bytes

RUN_BYTES = 8 << 20  # input per unit, so per run: what one worker holds in memory
RUN_FILES = 2048  # .md files per unit at most
MERGE_BUDGET = 64 << 20  # bytes of rows one shard writer may hold, one batch of each run
MIN_BATCH_BYTES = 64 << 10
MAX_BATCH_BYTES = 4 << 20
KEY_BATCH = 256  # keys read at a time from each run by the merge, at most
KEY_BUDGET = 1 << 15  # keys the merge holds at a time, over all runs (as Python objects)
ROW_BITS = 32  # `at` of a staged record: run index << ROW_BITS | row within the run
RUNS_PREFIX = "newsset-runs-"


class InputChanged(OSError):
    """An input file that is not what it was when the build read it."""


@dataclass(frozen=True)
class SourceFile:
    """The JSONL file that a run's lines are in (`write_input_run`), with its size and time
    when the pass read it: the shard writers read the lines again, and refuse a file that has
    changed since (`check`)."""

    path: str
    size: int
    mtime_ns: int

    def check(self, found: os.stat_result) -> None:
        """Raise InputChanged unless the file (as `os.stat` found it) is as it was."""
        if (found.st_size, found.st_mtime_ns) != (self.size, self.mtime_ns):
            raise self.changed()

    def changed(self) -> InputChanged:
        return InputChanged(f"{self.path} changed while the build read it; build again")


@dataclass(frozen=True)
class Run:
    """One unit's records on disk, sorted: the rows file, the keys file, the rows per batch.
    A run made from its input (`source`): its keys say where each row's line is in the input
    file, and its rows file (none where it needs none) holds only the lines it cannot point to;
    its rows per batch are those of its keys file."""

    rows: str
    keys: str
    batch_rows: tuple[int, ...]
    span: tuple[str, str]
    source: SourceFile | None = None
    lengths: np.ndarray | None = None  # its bodies' lengths in characters (int32), from the pass

    @property
    def count(self) -> int:
        return sum(self.batch_rows)

    @property
    def files(self) -> tuple[str, ...]:
        return (self.rows, self.keys) if self.rows else (self.keys,)


# --- the pass: validate and spill --------------------------------------------------------


@dataclass
class Staged:
    """The validated corpus as sorted runs, with the report; a Side of a comparison (diff.Side)."""

    report: validate.Report
    runs: list[Run] = field(default_factory=list)
    lengths: Lengths | None = None  # the body lengths, where the pass counted them (`body_lengths`)
    removing: multiprocessing.process.BaseProcess | None = None  # the process of `drop_runs`
    merging: Merging | None = None  # the merge, started while the corpus was checked

    @property
    def count(self) -> int:
        return sum(run.count for run in self.runs)

    def span(self) -> tuple[str, str]:
        if not self.runs:
            return ("", "")
        return min(r.span[0] for r in self.runs), max(r.span[1] for r in self.runs)

    def digests(self) -> Iterator[pa.Table]:
        """Ids, digests and places, a run at a time."""
        for index, run in enumerate(self.runs):
            keys = read_ipc(run.keys)
            at = (index << ROW_BITS) + np.arange(keys.num_rows, dtype=np.int64)
            columns = [keys.column("id"), keys.column("digest"), pa.array(at, pa.int64())]
            yield pa.Table.from_arrays(columns, schema=DIGESTS)

    def ids(self) -> Iterator[pa.Array]:
        """The ids, a chunk a run, from the runs' keys files mapped into memory (a run's keys
        are in batches of a few dozen rows, `key_rows`: a chunk a batch would make a sort of
        them take twice the time and memory)."""
        for run in self.runs:
            yield mapped_ipc(run.keys).column("id").combine_chunks()

    def write_data(
        self,
        data_dir: Path,
        settings: BuildConfig,
        jobs: int = 1,
        progress: bool | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> card.Stats:
        """The Parquet and JSONL shards of the release, merged from the runs (`write_data`)."""
        # the merge is passed on, not kept here, so that write_data can let go of its sizes
        return write_data(
            self.runs, data_dir, settings, jobs, progress, meanwhile, self.merged(), self.lengths
        )

    def merged(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The runs' merge, where a child made it (`Merging`); None where write_data merges."""
        return self.merging.result() if self.merging is not None else None

    def drop_runs(self) -> None:
        """Remove the run files in a child process, while the build goes on with the plots and
        the card: a gigabyte of runs takes the file system a quarter of a second to free. A
        process, not a thread, so that the plots' workers may still be forked. `stage` waits
        for it on the way out. The runs cannot be read after this."""
        paths = [path for run in self.runs for path in run.files]
        self.runs = []
        remover = workers.start_context().Process(target=remove_files, args=(paths,), name="newsset-rm-runs")
        remover.start()
        self.removing = remover

    def records_at(self, at: Sequence[int]) -> list[dict[str, Any]]:
        """The records at these places, from their JSONL lines (the plain record as validated)."""
        readers: dict[int, RunReader] = {}
        out = []
        for place in at:
            index, row = place >> ROW_BITS, place & ((1 << ROW_BITS) - 1)
            if index not in readers:
                readers[index] = reader(self.runs[index])
            out.append(json.loads(readers[index].line(row)))
        return out


@contextmanager
def stage(
    paths: Iterable[str | os.PathLike[str]],
    jobs: int | None = None,
    progress: bool | None = None,
    converting: bool = True,
) -> Iterator[Staged]:
    """Validate the corpus and spill its records to sorted runs in a scratch folder (under
    TMPDIR), removed on exit, or by the next build if this one is killed. With errors the runs
    are discarded: `runs` is empty. `converting`: this process will have pyarrow convert Python
    values after the stage (the comparison with a previous release does), so it imports pandas
    meanwhile (`import_pandas`).

    On the Ray engine the same work runs as Ray Data stages (builder/ray_stages.py) and the
    sorted records stay in Ray's object store instead.
    """
    if workers.current() == "ray":
        from builder import ray_stages

        with ray_stages.stage(paths) as staged:
            yield staged  # type: ignore[misc]
        return
    units = validate.plan_units(paths, RUN_BYTES, RUN_FILES)
    with Scratch(RUNS_PREFIX) as scratch:
        folder = str(scratch.path)
        work = functools.partial(
            stage_unit, folder=folder, batch_bytes=batch_bytes(len(units)), key_rows=key_rows(len(units))
        )
        merging = Merging(folder, child=(jobs if jobs is not None else validate.default_jobs(units)) > 1)
        report, outputs = validate.check_units(
            units,
            work,
            jobs,
            progress,
            meanwhile=import_pandas if converting else None,
            checked=merging.start,
        )
        give_back_memory()
        runs, lengths = body_lengths([run for run in outputs if run is not None])
        if report.errors:
            merging.stop()
            remove_files([path for run in runs for path in run.files])
            runs = []
        staged = Staged(report, runs, lengths, merging=merging if runs else None)
        try:
            yield staged
        finally:
            merging.stop()
            if staged.removing is not None:
                staged.removing.join()


def remove_files(paths: Sequence[str]) -> None:
    for path in paths:
        with suppress(FileNotFoundError):
            os.unlink(path)


def import_pandas() -> None:
    """pyarrow imports pandas, where it is installed, at its first conversion of Python or numpy
    values in a process (half a second of CPU); the build's comparison with the last release
    makes one. This process imports it while the workers stage, rather than after them. Shard
    writers convert nothing (`int64_array`, `card.int64_values`): a first release's build
    imports pandas nowhere."""
    with suppress(ImportError):
        import pandas  # noqa: F401


def give_back_memory() -> None:
    """Hand freed memory back to the system: glibc keeps freed heap pages for reuse, and Arrow's
    allocator its freed blocks; the next phase (and the workers it forks, which would share
    those pages) would be built on top of them. glibc's part is skipped without glibc."""
    pa.default_memory_pool().release_unused()
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def batch_bytes(units: int) -> int:
    """Bytes per batch of a run: small enough that one batch of every run fits the budget."""
    return max(MIN_BATCH_BYTES, min(MAX_BATCH_BYTES, MERGE_BUDGET // max(units, 1)))


def key_rows(units: int) -> int:
    """Keys per batch of a run's keys file: few enough that one batch of every run fits the
    merge's budget, so the merge's memory does not grow with the number of runs."""
    return max(16, min(KEY_BATCH, KEY_BUDGET // max(units, 1)))


def stage_unit(
    unit: validate.Unit, folder: str, batch_bytes: int, key_rows: int = KEY_BATCH
) -> validate.UnitResult:
    """Validate one unit (check_unit) and write its valid records to a run; none if it has
    errors. The run points into the input (`write_input_run`) where it can."""
    source = source_file(unit)  # before the unit is read: a change while it is read is seen
    with workers.fewer_collections():
        result, entries, lengths = unit_entries(unit, placing=source is not None)
        if entries and not result.errors:
            if source is not None and any(entry[2] >= 0 for entry in entries):
                run = write_input_run(entries, source, folder, key_rows)
            else:
                run = write_run(*run_tables(entries), folder, batch_bytes, key_rows)
            result.output = dataclasses.replace(run, lengths=np.array(lengths, dtype=np.int32))
    return result


def source_file(unit: validate.Unit) -> SourceFile | None:
    """The file that a unit's run may point into (`write_input_run`): the unit's one JSONL
    file, where it is a local regular file, which the shard writers can map, and the C part
    makes release lines. None otherwise."""
    name = unit.files[0] if len(unit.files) == 1 else ""
    if not name.endswith(".jsonl") or locations.is_uri(name) or not screens.native():
        return None
    try:
        found = os.stat(name)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return SourceFile(name, found.st_size, found.st_mtime_ns)


def sorted_unit(unit: validate.Unit) -> validate.UnitResult:
    """Validate one unit (check_unit); its `output` is its valid records sorted, as the tables
    of a run (`run_tables`), or None if the unit has errors."""
    with workers.fewer_collections():
        result, entries, _ = unit_entries(unit)
        result.output = run_tables(entries) if entries and not result.errors else None
    return result


def unit_entries(
    unit: validate.Unit, placing: bool = False
) -> tuple[validate.UnitResult, list[Entry], list[int]]:
    """Validate one unit (check_unit); return the result, the `Entry` of each record without
    errors, in input order, and the length of each one's body in characters (Python's, which
    it has already: the shard writers then need not count them in the UTF-8 again). `placing`:
    the run will point to the lines that have a place in their file (`write_input_run`), so
    their entries keep only the release line's size and digest, and the unit's lines are not
    all held in memory at once."""
    names = schema.field_names()
    entries: list[Entry] = []
    lengths: list[int] = []
    in_c = screens.native()
    fields = tuple(name.encode("ascii") for name in names) if in_c else ()

    def keep(src: Any, found: list[Any]) -> None:
        if found and any(d.severity == validate.ERROR for d in found):
            return
        lengths.append(len(src.data[build.BODY]))  # the release's body is the record's
        line = release_line(src, fields) if in_c else None
        if line is None:
            record = build.to_record(src.data, names)
            fragment = body_fragment(src) if in_c else None
            if fragment is not None and build.BODY in record:
                record[build.BODY] = fragment
            entries.append(entry(record))
        else:
            at, length = place_of(src)
            kept = b"" if placing and at >= 0 else line
            entries.append((build.sort_key(src.data), kept, at, length, len(line) + 1, line_digest(line)))

    return validate.check_unit(unit, keep), entries, lengths


# A record of a run before it is sorted: its sort key; its release line (b"" where the run
# points to the line in its file instead); where the line it was made from is in its JSONL
# file, the offset and length, or -1 and 0 where the release line is not made from the input
# line as it is in the file; the release line's size with its newline, and its digest.
Entry = tuple[tuple[Any, ...], bytes, int, int, int, bytes]
NO_PLACE = (-1, 0)


def entry(record: dict[str, Any]) -> Entry:
    """A plain record's `Entry` (`build.plain`)."""
    line = plain_jsonl_bytes(record)
    return build.sort_key(record), line, *NO_PLACE, len(line) + 1, line_digest(line)


def place_of(src: Any) -> tuple[int, int]:
    """Where a JSONL record's line is in its file: its input line as it is there (a view of the
    file's bytes: a line whose `\\r` or byte order mark was cut is a copy, and has no place)."""
    return (src.offset, len(src.raw)) if isinstance(src.raw, memoryview) else NO_PLACE


def release_line(src: Any, fields: tuple[bytes, ...]) -> bytes | None:
    """A JSONL record's release line made from its line as it is (`_scan.release_line`: the
    fields in schema order, null ones and blanks left out), where that is sure to be the line
    `plain_jsonl_bytes(build.to_record(...))` makes: no Python objects are made and nothing is
    encoded again, a tenth of the time. None otherwise, and for a record whose authors are
    derived from its byline. Needs the C part (`screens.native()`, which the caller asks once)."""
    raw = jsonl_line(src)
    if raw is None or build.derives_authors(src.data):
        return None
    return screens.compiled().release_line(raw, fields)


def jsonl_line(src: Any) -> Any | None:
    """A record's input line, where it is a JSONL one (an .md file's record has none)."""
    return src.raw if src.raw is not None and src.format == "jsonl" else None


KEYS = pa.schema(
    [
        ("date", pa.string()),
        ("page", pa.int64()),
        ("id", pa.string()),
        ("size", pa.int64()),
        ("digest", pa.binary(16)),
    ]
)
# The keys of a run made from its input: with each line's offset and length in the file.
PLACED_KEYS = KEYS.append(pa.field("offset", pa.int64())).append(pa.field("length", pa.int64()))


def body_fragment(src: Any) -> orjson.Fragment | None:
    """A JSONL record's body as its line writes it, to be written out as it is, where that is
    exactly what orjson writes for the body (`_scan.string_value`): for a line whose release
    line `release_line` does not make (one whose authors come from its byline, say), the line
    is then made without encoding the body to UTF-8 again, which orjson would do (and keep, a
    second copy of the body), some 6 µs a record. None otherwise. Needs the C part
    (`screens.native()`, which the caller asks once)."""
    raw = jsonl_line(src)
    span = None if raw is None else screens.compiled().string_value(raw, build.BODY.encode("ascii"))
    return None if span is None else orjson.Fragment(bytes(raw[span[0] : span[1]]))


def run_tables(entries: list[Entry]) -> tuple[pa.Table, pa.Table]:
    """Sort a unit's entries by their key; return their keys (date, page, id, JSONL size and
    digest) and their JSONL lines, as two tables in that order.

    The arrays are made from buffers, not converted from lists: pyarrow's first conversion of
    Python values in a process imports pandas, a fifth of a second in each staging worker.
    """
    entries.sort(key=operator.itemgetter(0))
    rows = lines_array([entry[1] for entry in entries], ended=True)
    return key_table(entries), pa.Table.from_arrays([rows], names=[build.LINE_COLUMN])


def key_table(entries: list[Entry], places: bool = False) -> pa.Table:
    """The keys of sorted entries (KEYS), and with `places` where their lines are (PLACED_KEYS)."""
    keys, _, offsets, lengths, sizes, digests = zip(*entries, strict=True) if entries else ((),) * 6
    columns = [
        lines_array([key[0].encode("utf-8") for key in keys]),
        int64_array([build.page_of(key) for key in keys]),
        lines_array([key[3].encode("utf-8") for key in keys]),
        int64_array(sizes),
        pa.Array.from_buffers(pa.binary(16), len(entries), [None, pa.py_buffer(b"".join(digests))]),
    ]
    if places:
        columns += [int64_array(offsets), int64_array(lengths)]
    return pa.Table.from_arrays(columns, schema=PLACED_KEYS if places else KEYS)


def int64_array(values: Sequence[int | None]) -> pa.Array:
    """Integers, some perhaps None, as an Arrow int64 array made from its buffers."""
    if None not in values:
        data = pa.py_buffer(np.array(values, dtype=np.int64))
        return pa.Array.from_buffers(pa.int64(), len(values), [None, data])
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    nulls = int(missing.sum())
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(pa.int64(), len(values), [validity, pa.py_buffer(data)], null_count=nulls)


OFFSET_LIMIT = 2**31  # bytes a string array's 32-bit offsets can address


def lines_array(lines: list[bytes], ended: bool = False) -> pa.Array:
    """UTF-8 texts (orjson's lines, or keys) as an Arrow string array, made from one joined
    buffer and the offsets without checking each text again; past 2 GiB, where 32-bit offsets
    end, pyarrow makes (and checks) the array itself. `ended`: each text ends in a newline."""
    ending = b"\n" if ended else b""
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(line) + len(ending) for line in lines], out=offsets[1:])
    if offsets[-1] >= OFFSET_LIMIT:
        return pa.array([line + ending for line in lines], pa.binary()).cast(pa.string())
    joined = ending.join([*lines, b""]) if ended else b"".join(lines)
    return pa.StringArray.from_buffers(
        len(lines), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(joined)
    )


def write_run(
    keys: pa.Table, rows: pa.Table, folder: str, batch_bytes: int, key_rows: int = KEY_BATCH
) -> Run:
    """Write a run (`run_tables`) to files: the lines in batches of about `batch_bytes`, and the
    keys in batches of `key_rows`."""
    handle, path = tempfile.mkstemp(dir=folder, prefix="run-", suffix=".arrow")
    os.close(handle)
    keys_path = path.removesuffix(".arrow") + ".keys.arrow"
    bounds = batch_bounds(keys.column("size").to_pylist(), batch_bytes)
    write_lines(rows, path, bounds)
    write_keys(keys, keys_path, key_rows)
    return Run(path, keys_path, tuple(stop - start for start, stop in bounds), span_of(keys))


def write_input_run(entries: list[Entry], source: SourceFile, folder: str, key_rows: int = KEY_BATCH) -> Run:
    """Write a run of entries whose lines are in `source` as its keys, with the lines' places
    (PLACED_KEYS): `InputReader` makes the lines again from the file. The lines of entries
    without a place (a record whose authors come from its byline, say) are *held* in the rows
    file, in run order; such a row's offset is -1 and its length its row there."""
    entries.sort(key=operator.itemgetter(0))
    held = [entry[1] for entry in entries if entry[2] < 0]
    if held:
        numbered = iter(range(len(held)))
        entries = [entry if entry[2] >= 0 else (*entry[:3], next(numbered), *entry[4:]) for entry in entries]
    keys = key_table(entries, places=True)
    handle, keys_path = tempfile.mkstemp(dir=folder, prefix="run-", suffix=".keys.arrow")
    os.close(handle)
    batch_rows = write_keys(keys, keys_path, key_rows)
    rows = ""
    if held:
        rows = keys_path.removesuffix(".keys.arrow") + ".arrow"
        lines = pa.Table.from_arrays([lines_array(held, ended=True)], names=[build.LINE_COLUMN])
        write_lines(lines, rows, [(0, len(held))])
    return Run(rows, keys_path, batch_rows, span_of(keys), source)


def write_lines(rows: pa.Table, path: str, bounds: Sequence[tuple[int, int]]) -> None:
    """A run's rows file: its lines, a batch for each (start, stop) of `bounds`."""
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
        for start, stop in bounds:
            writer.write_table(rows.slice(start, stop - start))


def write_keys(keys: pa.Table, path: str, key_rows: int) -> tuple[int, ...]:
    """A run's keys file, in batches of `key_rows`; the rows of each batch."""
    batches = keys.to_batches(max_chunksize=key_rows)
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, keys.schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return tuple(batch.num_rows for batch in batches)


def span_of(keys: pa.Table) -> tuple[str, str]:
    """The first and last date of a run's sorted keys."""
    dates = keys.column("date")
    return dates[0].as_py(), dates[-1].as_py()


def batch_bounds(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive batches of about `limit` bytes (at least one row each)."""
    bounds, start, total = [], 0, 0
    for i, n in enumerate(sizes):
        total += n
        if total >= limit:
            bounds.append((start, i + 1))
            start, total = i + 1, 0
    if start < len(sizes):
        bounds.append((start, len(sizes)))
    return bounds


def read_ipc(path: str) -> pa.Table:
    with pa.OSFile(path) as source:
        return pa.ipc.open_file(source).read_all()


def mapped_ipc(path: str) -> pa.Table:
    """An IPC file's table over the file mapped into memory: its columns are views of the page
    cache, read in as they are touched, and the map goes with the last of them. Touching one
    column does not map in its neighbours' pages (`keyfiles.map_at_random`)."""
    data = keyfiles.map_at_random(path)
    return pa.ipc.open_file(pa.BufferReader(pa.py_buffer(data))).read_all()


def read_batch(path: str, index: int) -> pa.RecordBatch:
    """One batch of an IPC file, the file opened for it alone: merging a thousand runs keeps no
    file open."""
    with pa.OSFile(path) as source:
        return pa.ipc.open_file(source).get_batch(index)


def mapped_batch(path: str, index: int) -> pa.RecordBatch:
    """One batch of an IPC file whose buffers are views of the file mapped into memory: read
    without a copy, and unmapped with the batch's last buffer."""
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).get_batch(index)


class RunReader:
    """Rows of one run read forward from a row, a batch at a time (or single lines by row)."""

    def __init__(self, run: Run, start: int = 0) -> None:
        self.path = run.rows
        self.bounds = np.cumsum((0, *run.batch_rows))
        self.batch = batch_of(self.bounds, start)
        self.offset = start - int(self.bounds[self.batch])
        self.current: pa.RecordBatch | None = None
        self.cached: tuple[int, list[str]] | None = None

    def take(self, count: int) -> pa.Table:
        """The next `count` rows."""
        pieces = []
        while count > 0:
            if self.current is None:
                self.current = mapped_batch(self.path, self.batch)
            n = min(count, self.current.num_rows - self.offset)
            pieces.append(self.current.slice(self.offset, n))
            self.offset += n
            count -= n
            if self.offset == self.current.num_rows:
                self.batch, self.offset, self.current = self.batch + 1, 0, None
        return pa.Table.from_batches(pieces)

    def line(self, row: int) -> str:
        """The JSONL line of one row, without its newline."""
        batch = batch_of(self.bounds, row)
        if self.cached is None or self.cached[0] != batch:
            lines = read_batch(self.path, batch).column(build.LINE_COLUMN).to_pylist()
            self.cached = (batch, lines)
        return self.cached[1][row - int(self.bounds[batch])].removesuffix("\n")


def batch_of(bounds: np.ndarray, row: int) -> int:
    """The batch that holds a row, given where the batches start (`bounds`, from 0 on)."""
    return int(np.searchsorted(bounds, row, side="right")) - 1


class InputFiles:
    """The input files of runs made from their input (`write_input_run`), each mapped whole,
    once, while they are read: the readers of a shard share one. A file that has changed since
    the pass read it is refused (`SourceFile.check`), at each read."""

    def __init__(self) -> None:
        self.maps: dict[str, mmap.mmap] = {}
        self.fields = tuple(name.encode("ascii") for name in schema.field_names())

    def release_lines(self, source: SourceFile, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
        """The release lines of the lines of `source` at `starts`, `lengths` bytes long, each
        with its newline (`_scan.release_lines`). The pages read are let go after (they stay in
        the page cache), so that a process holds the lines of one read, not the file."""
        data = self.mapped(source)
        # Arrow's allocator, not Python's: it keeps the memory a read freed for the next one
        out = pa.allocate_buffer(int(lengths.sum()) + len(starts), resizable=True)
        offsets = np.empty(len(starts) + 1, np.int32)
        made = screens.compiled().release_lines(data, starts, lengths, self.fields, out, offsets)
        if made is None:
            raise source.changed()
        out.resize(made)
        if len(starts):
            keyfiles.unmap(data, int(starts.min()), int((starts + lengths).max()))
        return pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), out)

    def mapped(self, source: SourceFile) -> mmap.mmap:
        """The file mapped (no file stays open), checked to be as it was."""
        data = self.maps.get(source.path)
        if data is not None:
            source.check(os.stat(source.path))
            return data
        with open(source.path, "rb") as handle:
            source.check(os.fstat(handle.fileno()))
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):  # a touched page maps in that page, not its neighbours
            data.madvise(mmap.MADV_RANDOM)
        self.maps[source.path] = data
        return data


class InputReader:
    """Rows of a run made from its input (`write_input_run`) read forward from a row, as
    `RunReader` reads those of a run with lines: each row's release line is made again from its
    line in the input file (`InputFiles.release_lines`), or read from the run's rows file where
    the run holds it."""

    def __init__(self, run: Run, start: int = 0, files: InputFiles | None = None) -> None:
        if run.source is None:
            raise ValueError(f"{run.keys}: not a run made from its input")
        self.source = run.source
        # read a batch of keys at a time, as the rows come: a shard's writer has a reader of
        # every run, and the places of all their rows would be 16 bytes an article of the corpus
        self.keys = keyfiles.map_at_random(run.keys)  # no file stays open
        self.key_file = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(self.keys)))
        self.bounds = np.cumsum((0, *run.batch_rows))
        self.batch = -1
        self.batch_places = (np.empty(0, np.int64), np.empty(0, np.int64))
        self.at = start
        self.files = files or InputFiles()
        self.rows = run.rows
        self.held: pa.ChunkedArray | None = None  # the lines the run holds, once mapped

    def places(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Where the next `count` rows' lines are in the input file: starts and lengths."""
        at, self.at = self.at, self.at + count
        return self.places_at(at, count)

    def places_at(self, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Starts and lengths of the lines of `count` rows from `row` on."""
        starts, lengths = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        while count > 0:
            index = batch_of(self.bounds, row)
            if index != self.batch:
                batch = self.key_file.get_batch(index)
                self.batch_places = tuple(card.int64_values(batch.column(n)) for n in ("offset", "length"))
                self.batch = index
                keyfiles.unmap(self.keys, 0, len(self.keys))  # copied out: the pages read may go
            first = row - int(self.bounds[index])
            n = min(count, int(self.bounds[index + 1]) - row)
            starts.append(self.batch_places[0][first : first + n])
            lengths.append(self.batch_places[1][first : first + n])
            row, count = row + n, count - n
        return np.concatenate(starts), np.concatenate(lengths)

    def take(self, count: int) -> pa.Table:
        """The next `count` rows."""
        return pa.Table.from_arrays([self.lines(*self.places(count))], names=[build.LINE_COLUMN])

    def line(self, row: int) -> str:
        """The JSONL line of one row, without its newline."""
        line = self.lines(*self.places_at(row, 1))[0]
        return line.as_py().removesuffix("\n")

    def lines(self, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
        """The lines of the rows at these places (`places`), each with its newline."""
        held = starts < 0
        if not held.any():
            return self.files.release_lines(self.source, starts, lengths)
        made = self.files.release_lines(self.source, starts[~held], lengths[~held])
        if self.held is None:
            self.held = mapped_ipc(self.rows).column(build.LINE_COLUMN)
        kept = self.held.take(int64_array(lengths[held].tolist()))
        order = np.empty(len(starts), np.int64)
        order[~held] = np.arange(len(made))
        order[held] = len(made) + np.arange(len(kept))
        both = pa.chunked_array([made, *kept.chunks], pa.string())
        return both.take(int64_array(order.tolist())).combine_chunks()


def reader(run: Run, start: int = 0, files: InputFiles | None = None) -> RunReader | InputReader:
    """The reader of a run's rows from `start` on (`files`: the input files its shard's readers
    share)."""
    return InputReader(run, start, files) if run.source is not None else RunReader(run, start)


# --- the merge: order, shards, row groups ------------------------------------------------


class Merging:
    """The merge of the runs (`merge`) in a child process, started as soon as the last run is
    written, while this process runs the corpus checks (`validate.check_units(checked=...)`):
    a fifth of a second of the build's serial time at 200,000 articles. Its arrays come back
    through a file in the scratch folder. Should the child fail, `result` merges here, as it
    does for a build in one process (`child` false)."""

    def __init__(self, folder: str, child: bool = True) -> None:
        self.path = os.path.join(folder, "merged.npz")
        self.child = child
        self.process: multiprocessing.process.BaseProcess | None = None
        self.runs: list[Run] = []

    def start(self, outputs: Sequence[Run | None]) -> None:
        """Start the merge, unless a unit has no run: it had errors, so nothing is built."""
        self.runs = [run for run in outputs if run is not None]
        if self.runs and self.child and len(self.runs) == len(outputs):
            self.process = workers.start_context().Process(
                target=merge_to_file, args=(self.runs, self.path), name="newsset-merge"
            )
            self.process.start()

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The merge's order and sizes, once the child is done."""
        if self.process is not None:
            self.process.join()
            if self.process.exitcode == 0:
                with np.load(self.path) as merged:
                    return merged["order"], merged["sizes"]
        return merge(self.runs)

    def stop(self) -> None:
        """End the child if it still runs (the corpus had errors, or the build stopped), and
        remove its file."""
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join()
        remove_files([self.path, self.path + ".partial"])


def merge_to_file(runs: Sequence[Run], path: str) -> None:
    """`merge` the runs into an .npz file (`order`, `sizes`), written whole or not at all."""
    order, sizes = merge(runs)
    partial = path + ".partial"
    with open(partial, "wb") as out:
        np.savez(out, order=order, sizes=sizes)
    os.replace(partial, path)


def merge(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """The run of each row in (date, page, id) order, and each row's JSONL size.

    A k-way merge of the runs' keys: each run is sorted, so the run that each next row comes
    from says everything about the order. Rows are taken from a run in stretches: all those
    that come before the next run's first row at once, found by bisection, so a corpus whose
    runs follow each other in time costs a few steps a batch, not a heap step a row. Equal keys
    (which only a corpus with errors has) come in run order.
    """
    order, sizes = array("I"), array("q")
    cursors = [KeyCursor(i, run) for i, run in enumerate(runs)]
    heap = [(cursor.key(0), cursor.index) for cursor in cursors if cursor.load()]
    heapq.heapify(heap)
    while heap:
        _key, index = heapq.heappop(heap)
        cursor = cursors[index]
        bound = heap[0] if heap else None
        while True:
            stop = cursor.before(bound)
            order.extend(array("I", [index]) * (stop - cursor.at))
            sizes.extend(cursor.sizes[cursor.at : stop])
            cursor.at = stop
            if stop < cursor.count or not cursor.load():
                break
        if cursor.at < cursor.count:
            heapq.heappush(heap, (cursor.key(cursor.at), index))
    return np.frombuffer(order, dtype=np.uint32), np.frombuffer(sizes, dtype=np.int64)


class KeyCursor:
    """A run's keys read forward a batch at a time, as columns: (date, page, id) and JSONL size."""

    def __init__(self, index: int, run: Run) -> None:
        self.index = index
        self.path = run.keys
        self.batch = 0
        with pa.OSFile(run.keys) as source:
            self.batches = pa.ipc.open_file(source).num_record_batches
        self.dates: list[str] = []
        self.pages: list[int | None] = []
        self.ids: list[str] = []
        self.sizes: list[int] = []
        self.at = self.count = 0

    def load(self) -> bool:
        """Read the next batch of keys; False when there is none left."""
        while self.batch < self.batches:
            batch = read_batch(self.path, self.batch)
            self.batch += 1
            if batch.num_rows:
                self.dates = batch.column("date").to_pylist()
                self.pages = batch.column("page").to_pylist()
                self.ids = batch.column("id").to_pylist()
                self.sizes = batch.column("size").to_pylist()
                self.at, self.count = 0, batch.num_rows
                return True
        self.at = self.count = 0
        return False

    def key(self, row: int) -> tuple[Any, ...]:
        """build.sort_key of a row of the batch."""
        return build.key_of(self.dates[row], self.pages[row], self.ids[row])

    def before(self, bound: tuple[tuple[Any, ...], int] | None) -> int:
        """Where this batch's rows stop coming before `bound`, another run's (key, index)."""
        if bound is None:
            return self.count
        key, index = bound
        find = bisect.bisect_left if self.index > index else bisect.bisect_right
        return find(range(self.count), key, self.at, self.count, key=self.key)


@dataclass(frozen=True)
class ShardJob:
    """One shard to write: its rows are `order` (a run index each), from `starts` on in each run."""

    index: int
    count: int
    runs: tuple[Run, ...]
    starts: tuple[int, ...]
    order: np.ndarray
    data_dir: str
    settings: BuildConfig
    count_lengths: bool = True  # False where the pass counted the body lengths


def write_data(
    runs: Sequence[Run],
    data_dir: Path,
    settings: BuildConfig,
    jobs: int = 1,
    progress: bool | None = None,
    meanwhile: Callable[[], object] | None = None,
    merged: tuple[np.ndarray, np.ndarray] | None = None,
    lengths: Lengths | None = None,
) -> card.Stats:
    """Merge the runs into the Parquet and JSONL shards; return the card's statistics.

    The shards are cut by build.plan_shards from the merged rows' sizes, then written by
    `jobs` processes, a worker per shard; the bytes do not depend on `jobs`. `meanwhile` is
    what this process does while they write (`workers.imap`). `merged` is the runs' `merge`,
    where it was made already (`Merging`). `lengths`: the bodies' lengths, where the pass
    counted them (`body_lengths`); the shard writers count them otherwise.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    order, sizes = merged if merged is not None else merge(runs)
    del merged
    shards = build.plan_shards(sizes, settings.max_shard_bytes)
    shard_bytes = [int(sizes[rng.start : rng.stop].sum()) for rng in shards]
    del sizes  # eight bytes an article, not kept while the shards are written
    give_back_memory()  # what the comparison with the last release and the merge freed
    taken = np.zeros(len(runs), dtype=np.int64)
    todo = []
    for index, rng in enumerate(shards):
        part = order[rng.start : rng.stop]
        starts = tuple(taken.tolist())
        todo.append(
            ShardJob(index, len(shards), tuple(runs), starts, part, str(data_dir), settings, lengths is None)
        )
        taken += np.bincount(part, minlength=len(runs))
    tally = card.Tally()
    shown = Progress(sum(shard_bytes), label="written", enabled=progress)
    written = workers.imap(write_shard, todo, min(jobs, len(todo)), meanwhile)
    for rng, size, part_tally in zip(shards, shard_bytes, written, strict=True):
        tally.update(part_tally)
        shown.update(2, len(rng), size)
    shown.close()
    if lengths is not None:
        tally.lengths = lengths
    return tally.stats()


def body_lengths(runs: Sequence[Run]) -> tuple[list[Run], Lengths | None]:
    """The runs without their body lengths (`Run.lengths`), and those lengths counted together;
    None where the pass did not count them for every run (the shard writers count them then)."""
    if not runs or any(run.lengths is None for run in runs):
        return list(runs), None
    lengths = Lengths.of(np.concatenate([run.lengths for run in runs]))
    return [dataclasses.replace(run, lengths=None) for run in runs], lengths


def write_shard(job: ShardJob) -> card.Tally:
    """Write one shard (build.write_shard) from its rows in the runs; count them for the card."""
    files = InputFiles()
    readers = [reader(run, start, files) for run, start in zip(job.runs, job.starts, strict=True)]
    groups = row_groups(readers, job.order, job.settings.row_group_rows)
    tally = card.Tally(count_lengths=job.count_lengths)
    return write_counted_shard(groups, job.index, job.count, Path(job.data_dir), job.settings, tally)


def write_counted_shard(
    groups: Iterable[pa.Buffer],
    index: int,
    count: int,
    folder: Path,
    settings: BuildConfig,
    tally: card.Tally | None = None,
) -> card.Tally:
    """Write shard `index` of `count` from its row groups' JSONL bytes (build.write_shard); return the
    tally of its rows for the card (`tally`, or a new one), with the files' facts (sizes,
    SHA-256) measured here, in the shard's worker. Both engines write their shards with it."""
    tally = tally if tally is not None else card.Tally()
    measured = 0

    def observe(table: pa.Table, data: pa.Buffer) -> None:
        nonlocal measured
        if tally.example is None:
            tally.example = json.loads(build.first_line(data))
        tally.add(table)
        measured += card.measured_bytes(table)

    parquet, jsonl = (folder / build.shard_name(index, count, suffix) for suffix in ("parquet", "jsonl"))
    parquet_sha, jsonl_sha = build.write_shard(groups, parquet, jsonl, settings, observe)
    tally.files = [
        build.file_facts(parquet, *card.arrow_size(parquet, measured), digest=parquet_sha),
        build.file_facts(jsonl, digest=jsonl_sha),
    ]
    build.flush_soon([parquet, jsonl])  # to the disk while the writers go on, not all at the end
    return tally


def row_groups(
    readers: Sequence[RunReader | InputReader], order: np.ndarray, size: int
) -> Iterator[pa.Buffer]:
    """The JSONL bytes of `size` rows at a time, in `order`: each group's rows are taken from
    the runs, then put in order (`joined`); where they are all lines of one input file, their
    release lines are made in order at once (`in_order`)."""
    for at in range(0, len(order), size):
        part = order[at : at + size]
        counts = np.bincount(part, minlength=len(readers))
        used = np.flatnonzero(counts).tolist()
        by_run = np.argsort(part, kind="stable")  # the lines: the part's rows, grouped by run
        sources = {readers[i].source.path if isinstance(readers[i], InputReader) else None for i in used}
        if len(sources) == 1 and None not in sources:
            made = in_order([readers[i] for i in used], counts[used], by_run)  # type: ignore[misc]
            if made is not None:
                yield made
                continue
        lines = pa.concat_tables(readers[i].take(int(counts[i])) for i in used)
        position = np.empty_like(by_run)
        position[by_run] = np.arange(len(part))
        yield joined(lines.column(build.LINE_COLUMN), position)


def in_order(readers: Sequence[InputReader], counts: np.ndarray, by_run: np.ndarray) -> pa.Buffer | None:
    """The release lines of a row group whose rows are all lines of one input file: `counts`
    rows from each reader, which `by_run` lists grouped by reader. Made in the group's order
    straight from the file, they are copied once. None, and no reader moved on, where a run
    holds one of the rows' lines."""
    places = [r.places(int(n)) for r, n in zip(readers, counts, strict=True)]
    starts, lengths = np.empty(len(by_run), np.int64), np.empty(len(by_run), np.int64)
    starts[by_run] = np.concatenate([s for s, _ in places])
    if starts.min() < 0:
        for r, n in zip(readers, counts, strict=True):
            r.at -= int(n)
        return None
    lengths[by_run] = np.concatenate([n for _, n in places])
    return text_bytes(readers[0].files.release_lines(readers[0].source, starts, lengths))


INLINE_BYTES = 12  # a string view holds a text this short itself, not a place in a buffer
VIEWS_CAST = int(pa.__version__.split(".")[0]) >= 18  # pyarrow casts string views to strings


def joined(lines: pa.ChunkedArray, order: np.ndarray | None = None) -> pa.Buffer:
    """The texts of a run's line column (each ending in its newline) in `order` (as they are
    without), as one buffer: a row group's JSONL bytes, copied once. The order is put on
    string views of the texts where they lie (16 bytes a row), which Arrow's cast to a string
    array then copies, in that order, into one buffer; taking the strings in order, then
    joining them, copied them twice."""
    buffers: list[pa.Buffer] = []
    views = []
    for chunk in lines.chunks:
        if not len(chunk):
            continue
        offsets = string_offsets(chunk)
        starts, lengths = offsets[:-1], np.diff(offsets)
        if not VIEWS_CAST or lengths.min() <= INLINE_BYTES:  # no record's line is that short
            ordered = lines.take(int64_array(order.tolist())) if order is not None else lines
            return text_bytes(ordered.combine_chunks())
        chars = np.frombuffer(chunk.buffers()[2], np.uint8)
        view = np.empty((len(chunk), 4), np.int32)
        view[:, 0] = lengths
        view[:, 1] = chars[starts[:, None] + np.arange(4)].view(np.int32)[:, 0]  # the prefix
        view[:, 2] = len(buffers)
        view[:, 3] = starts
        views.append(view)
        buffers.append(chunk.buffers()[2])
    if not views:
        return pa.py_buffer(b"")
    rows = np.concatenate(views)
    if order is not None:
        rows = rows[order]
    viewed = pa.Array.from_buffers(pa.string_view(), len(rows), [None, pa.py_buffer(rows), *buffers])
    return text_bytes(viewed.cast(pa.string()))


def text_bytes(texts: pa.Array) -> pa.Buffer:
    """The bytes of a string array's texts, one after the other."""
    offsets = string_offsets(texts)
    return texts.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def string_offsets(texts: pa.Array) -> np.ndarray:
    """A string array's offsets (32-bit), as a view of its buffer."""
    return np.frombuffer(texts.buffers()[1], np.int32, len(texts) + 1, texts.offset * 4)
