"""Records → an Arrow table with the schema's types → Parquet and JSONL shards, deterministically.

Rows are sorted by (date, page, id); shards are cut by the records' size so that no shard grows
without bound, and the JSONL shards hold exactly the rows of the Parquet shard of the same number.
A shard is written a row group at a time (builder/runs.py brings the rows in order), so memory
holds one row group, not the shard. Nothing written depends on the clock or the machine: the
same records give the same bytes.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from builder import bylines, schema, screens, workers
from builder.config import BuildConfig
from builder.diff import DIGESTS, line_digest

SPLIT = "train"
DATA_DIR = "data"
SORT_FIELDS = ("date", "page", "id")
# The column of a sorted run (builder/runs.py): each record's JSONL line, made from the record as
# validated (so nested objects keep their keys' order, as the JSON had it), with its newline.
LINE_COLUMN = "jsonl"
NEWLINE = 10


def sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """(date, page, id), a record without a page after those with one on the same date."""
    return key_of(str(record["date"]), record.get("page"), record["id"])


def key_of(date: str, page: int | None, record_id: str) -> tuple[Any, ...]:
    """`sort_key` from its three fields (as a sorted run's keys file holds them)."""
    return (date, page is None, page or 0, record_id)


def page_of(key: tuple[Any, ...]) -> int | None:
    """The page a `sort_key` was made from."""
    return None if key[1] else key[2]


def plain(record: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """A record as JSON gives it: fields in schema order, dates as YYYY-MM-DD, absent fields left out."""
    names = names or schema.field_names()
    out = {}
    for name in names:
        value = record.get(name)
        if value is not None:
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def to_record(data: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """A validated record as the release has it (`plain`): fields in schema order (`names`),
    absent ones left out, dates as text, and `authors` derived from `byline` when absent."""
    if derives_authors(data):
        data = {**data, "authors": bylines.authors_of(data["byline"]) or None}
    return plain(data, names)


def derives_authors(data: dict[str, Any]) -> bool:
    """Does `to_record` derive the record's authors from its byline?"""
    return data.get("authors") is None and isinstance(data.get("byline"), str)


def jsonl_table(data: bytes, arrow_schema: pa.Schema | None = None) -> pa.Table:
    """JSONL lines of plain records as one table of the schema's types, read by pyarrow's JSON
    reader: the values `pa.Table.from_pylist` gives, many times faster.

    The reader takes dates as text; they are cast to date32 after. The body, nine tenths of
    the bytes, is read by C where the C part is built (`split_body`): the reader then parses a
    line a sixth of the time.
    """
    arrow_schema = arrow_schema or schema.arrow_schema()
    dates = [f.name for f in arrow_schema if pa.types.is_date32(f.type)]
    as_read = pa.schema([f.with_type(pa.string()) if f.name in dates else f for f in arrow_schema])
    body = split_body(data, arrow_schema)
    if body is not None:
        data, column = body
        as_read = as_read.remove(as_read.get_field_index(BODY))
    table = pj.read_json(
        pa.BufferReader(data),
        read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(data) + 1)),
        parse_options=pj.ParseOptions(explicit_schema=as_read, unexpected_field_behavior="error"),
    )
    columns = [
        column if body is not None and f.name == BODY else table.column(f.name).cast(f.type)
        for f in arrow_schema
    ]
    return pa.Table.from_arrays(columns, schema=arrow_schema).combine_chunks()


# The long text of a record: read without the JSON reader (`split_body`), and taken from its
# line as it is for staging (runs.body_fragment).
BODY = "body"


def split_body(data: bytes, arrow_schema: pa.Schema) -> tuple[bytes, pa.Array] | None:
    """JSONL lines parted into the lines without their body and the bodies as a string array
    (`_scan.split_string`), where the schema's body is text and every line has one; None
    otherwise, and without the C part (or with NEWSSET_SCREENS=numpy)."""
    index = arrow_schema.get_field_index(BODY)
    if index < 0 or arrow_schema.field(index).type != pa.string() or not screens.native():
        return None
    # Arrow's allocator, not Python's: it keeps the memory a row group freed for the next one
    rest, texts = pa.allocate_buffer(len(data), resizable=True), pa.allocate_buffer(len(data), resizable=True)
    parts = screens.compiled().split_string(data, BODY.encode("ascii"), rest, texts)
    if parts is None:
        return None
    offsets, rest_size, texts_size = parts
    rest.resize(rest_size)
    texts.resize(texts_size)
    return rest, pa.StringArray.from_buffers(len(offsets) // 4 - 1, pa.py_buffer(offsets), texts)


def plan_shards(sizes: Sequence[int] | np.ndarray, max_bytes: int) -> list[range]:
    """Consecutive row ranges whose JSON size stays under `max_bytes` (a shard has at least one row).

    `sizes` are the rows' JSONL sizes in bytes, newline included, in row order. Each shard
    takes as many rows as fit, so the cut needs only the running total of the sizes.
    """
    cuts = ShardCuts(max_bytes)
    cuts.add(np.asarray(sizes, dtype=np.int64))
    return cuts.shards()


class ShardCuts:
    """`plan_shards` over sizes given a block at a time, in row order: it holds the cuts and
    the open shard's byte count, never the sizes of earlier blocks."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.starts: list[int] = [0]
        self.rows = 0
        self.open_bytes = 0  # bytes of the rows of the open shard (from starts[-1] to rows)

    def add(self, sizes: np.ndarray) -> None:
        """The sizes of the next rows."""
        total = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        at = 0  # the first row of this block not yet in a shard
        while at < len(sizes):
            room = self.max_bytes - self.open_bytes + int(total[at])
            stop = max(int(np.searchsorted(total, room, side="right")) - 1, at)
            if self.rows + at == self.starts[-1]:
                stop = max(stop, at + 1)  # a shard has at least one row
            if stop >= len(sizes):
                self.open_bytes += int(total[-1] - total[at])
                break
            self.starts.append(self.rows + stop)
            self.open_bytes, at = 0, stop
        self.rows += len(sizes)

    def shards(self) -> list[range]:
        """The row ranges of the shards of every row added."""
        ends = [*self.starts[1:], self.rows]
        return [range(a, b) for a, b in zip(self.starts, ends, strict=True) if b > a]


def shard_name(index: int, count: int, suffix: str) -> str:
    return f"{SPLIT}-{index:05d}-of-{count:05d}.{suffix}"


def parquet_writer(
    where: Path | HashingFile, arrow_schema: pa.Schema, settings: BuildConfig
) -> pq.ParquetWriter:
    """zstd, statistics, the sort order declared; nothing clock-dependent. `where` is a path, or
    a file to write through.

    The options are `pq.write_table`'s, so that writing a shard one row group at a time gives
    the bytes that writing it as one table with `row_group_size` gives.
    """
    names = arrow_schema.names
    order = [pq.SortingColumn(names.index(n), descending=False, nulls_first=False) for n in SORT_FIELDS]
    return pq.ParquetWriter(
        where,
        arrow_schema,
        compression="zstd",
        compression_level=settings.zstd_level,
        use_dictionary=dictionary_columns(arrow_schema, tuple(settings.plain_fields)),
        write_statistics=True,
        sorting_columns=order,
    )


@functools.cache
def dictionary_columns(arrow_schema: pa.Schema, plain: tuple[str, ...]) -> list[str] | bool:
    """The Parquet columns that are dictionary-encoded (`use_dictionary`): those of every field
    but the `plain` ones, by their paths in the Parquet schema (a nested field has a column per
    leaf, `authors.list.element.name`), read from an empty file of the schema (made from no
    batches: `Schema.empty_table` would import pandas); True (all of them) when no field is plain."""
    if not plain:
        return True
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_batches([], schema=arrow_schema), sink)
    leaves = pq.ParquetFile(pa.BufferReader(sink.getvalue())).schema
    paths = [leaves.column(i).path for i in range(len(leaves))]
    return [path for path in paths if path.split(".")[0] not in plain]


def write_shard(
    row_groups: Iterable[pa.Buffer],
    parquet: Path,
    jsonl: Path,
    settings: BuildConfig,
    observe: Callable[[pa.Table, pa.Buffer], None] | None = None,
) -> tuple[str, str]:
    """Write one shard from its row groups of at most `row_group_rows` records each: their
    JSONL bytes (each line ended by its newline: `runs.joined` of a run's rows) go to the JSONL
    file as they are, and the same bytes, read as the schema's columns (`jsonl_table`), to the
    Parquet file as one row group. `observe` sees each row group's table and JSONL bytes.
    Returns the SHA-256 of the Parquet and of the JSONL file, hashed on the way to them
    (`HashingFile`) rather than read back."""
    writer = None
    with HashingFile(parquet) as parquet_out, HashingFile(jsonl) as out:
        try:
            for data in row_groups:
                out.write(data)
                table = jsonl_table(data)
                if observe is not None:
                    observe(table, data)
                if writer is None:
                    writer = parquet_writer(parquet_out, table.schema, settings)
                writer.write_table(table, row_group_size=settings.row_group_rows)
        finally:
            if writer is not None:
                writer.close()
            # Arrow's allocator reuses a row group's freed memory for the next one (handing it
            # back to the system after each costs a third of the shard's time in page faults),
            # and keeps it after the last: give it back then.
            pa.default_memory_pool().release_unused()
    return parquet_out.hexdigest(), out.hexdigest()


def first_line(data: pa.Buffer) -> str:
    """The first line of JSONL bytes, without its newline."""
    chars = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(chars == NEWLINE)
    return bytes(chars[: ends[0] if len(ends) else len(chars)]).decode("utf-8")


# The most bytes handed to the system in one write. On this project's machine (a virtual one)
# a write of 2 MB or more took ten times the system time a byte of writes of 1 MB or less:
# Linux gives a large write large pages of the page cache, and most likely the host has taken
# back the freed large pages, so that their first touch is slow. A shard writer that wrote a
# row group's 5 MB of JSONL in one call spent a third of its time in the kernel.
WRITE_PIECE = 256 << 10


# Bytes written after which a file's new part is sent on to the disk (`start_writeback`).
WRITEBACK_BYTES = 16 << 20


class HashingFile:
    """A file opened for writing that hashes (SHA-256) the bytes written through it, so that
    the writer of a release file knows its digest without reading the file back. pyarrow's
    Parquet writer writes to it as to any Python file. Large writes go to the file in pieces
    of `WRITE_PIECE`; every `WRITEBACK_BYTES` the system is asked to start writing the new
    part to the disk, so that the flush before the release is published finds little left."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.digest = hashlib.sha256()
        self.sent = 0  # the bytes whose writing to the disk was started

    def write(self, data: Any) -> int:
        self.digest.update(data)
        view = memoryview(data).cast("B")
        for at in range(0, len(view), WRITE_PIECE):
            self.file.write(view[at : at + WRITE_PIECE])
        written = self.file.tell()
        if written - self.sent >= WRITEBACK_BYTES:
            self.file.flush()
            start_writeback(self.file.fileno(), self.sent, written - self.sent)
            self.sent = written
        return len(view)

    def tell(self) -> int:
        return self.file.tell()

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()

    @property
    def closed(self) -> bool:
        return self.file.closed

    def hexdigest(self) -> str:
        return self.digest.hexdigest()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@functools.cache
def sync_file_range() -> Any:
    """Linux's sync_file_range, through the C library; None where there is none."""
    try:
        call = ctypes.CDLL(None).sync_file_range
    except (AttributeError, OSError, TypeError):  # no such function, or no C library to ask
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return call


SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int, start: int, length: int) -> None:
    """Start writing a part of a file to the disk, without waiting for it (Linux; elsewhere the
    final flush writes it all)."""
    call = sync_file_range()
    if call is not None:
        call(fd, start, length, SYNC_FILE_RANGE_WRITE)


def flush(path: Path) -> None:
    """Write a file's data through to the disk (`release.sync` does it for every file of a
    release before it is renamed into place)."""
    with path.open("rb") as f:
        os.fsync(f.fileno())


def flush_soon(paths: Sequence[Path]) -> threading.Thread:
    """Start writing files through to the disk in a thread, and go on: a shard writer starts
    its next shard while the disk takes the last one. `release.sync` waits for the disk before
    the release is renamed into place, as it flushes every file again (a file already flushed
    costs it nothing)."""
    thread = threading.Thread(target=lambda: [flush(p) for p in paths], name="newsset-flush", daemon=True)
    thread.start()
    return thread


def shard_files(release: Path, suffix: str) -> list[Path]:
    """The data files of one format in a release, in shard order."""
    return sorted((release / DATA_DIR).glob(f"{SPLIT}-*-of-*.{suffix}"))


def read_shards(release: Path) -> list[tuple[Path, pa.Table]]:
    """Each Parquet shard of a release with its table, in shard order."""
    return [(path, pq.read_table(path)) for path in shard_files(release, "parquet")]


def read_table(release: Path) -> pa.Table:
    """All Parquet shards of a release as one table."""
    shards = read_shards(release)
    if not shards:
        raise FileNotFoundError(f"{release / DATA_DIR}: no Parquet shards")
    return pa.concat_tables(table for _, table in shards)


def table_records(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of a table as plain records (dates as strings, absent fields left out)."""
    names = table.schema.names
    return [plain(row, names) for row in table.to_pylist()]


class ReleaseRows:
    """A release's records read a row group at a time: a side of a comparison (diff.Side).

    A record's place (`at`) is its row number in the release, shards in order. The digests are
    computed by `jobs` processes (all cores for a big release by default).
    """

    def __init__(self, release: Path, jobs: int | None = None) -> None:
        self.release = release
        self.paths = shard_files(release, "parquet")
        if not self.paths:
            raise FileNotFoundError(f"{release / DATA_DIR}: no Parquet shards")
        self.files = [pq.ParquetFile(path) for path in self.paths]
        groups = [(f, g) for f in range(len(self.files)) for g in range(self.files[f].num_row_groups)]
        sizes = [self.files[f].metadata.row_group(g).num_rows for f, g in groups]
        self.groups = groups
        self.starts = np.cumsum([0, *sizes])
        self.jobs = jobs

    @property
    def count(self) -> int:
        return int(self.starts[-1])

    def digests(self) -> Iterator[pa.Table]:
        """Ids, digests and places, a shard at a time, in `jobs` processes (`shard_digests`)."""
        lines = shard_files(self.release, "jsonl")
        if [p.with_suffix("") for p in lines] != [p.with_suffix("") for p in self.paths]:
            raise ValueError(f"{self.release / DATA_DIR}: the JSONL shards do not match the Parquet shards")
        starts = np.cumsum([0, *(f.metadata.num_rows for f in self.files)]).tolist()
        tasks = [(str(p), str(j), at) for p, j, at in zip(self.paths, lines, starts[:-1], strict=True)]
        jobs = self.jobs if self.jobs is not None else min(os.cpu_count() or 1, len(tasks))
        yield from workers.imap(shard_digests, tasks, jobs)

    def ids(self) -> Iterator[pa.Array]:
        """The ids, a shard's id column at a time."""
        for f in self.files:
            yield f.read(columns=["id"]).column("id").combine_chunks()

    def read_group(self, index: int) -> pa.Table:
        f, g = self.groups[index]
        return self.files[f].read_row_group(g)

    def records_at(self, at: Sequence[int]) -> list[dict[str, Any]]:
        where = np.searchsorted(self.starts, at, side="right") - 1
        out: list[dict[str, Any]] = []
        cached: tuple[int, list[dict[str, Any]]] = (-1, [])
        for place, index in zip(at, where.tolist(), strict=True):
            if cached[0] != index:
                cached = (index, table_records(self.read_group(index)))
            out.append(cached[1][place - int(self.starts[index])])
        return out

    def span(self) -> tuple[str, str]:
        ends = [pc.min_max(f.read(columns=["date"]).column("date")) for f in self.files]
        first, last = min(e["min"].as_py() for e in ends), max(e["max"].as_py() for e in ends)
        return first.isoformat(), last.isoformat()


def shard_digests(task: tuple[str, str, int]) -> pa.Table:
    """Ids, digests and places of one shard's rows, whose first is row `at` of the release. The
    ids come from the Parquet file; each digest is the `line_digest` of the row's JSONL line,
    as a staged record's is of its release line: equal records have equal digests, and no
    record is made. (A release whose lines another writer wrote may differ in digest where
    its records do not: `diff.changed_fields` compares those records themselves.)"""
    parquet, jsonl, at = task
    ids = pq.read_table(parquet, columns=["id"]).column("id")
    with open(jsonl, "rb") as lines:
        digests = b"".join(line_digest(line.rstrip(b"\n")) for line in lines if line.strip())
    found = len(digests) // 16
    if found != len(ids):
        raise ValueError(f"{jsonl}: {found} lines for the {len(ids)} rows of {Path(parquet).name}")
    places = pa.array(np.arange(at, at + found, dtype=np.int64))
    digest = pa.Array.from_buffers(pa.binary(16), found, [None, pa.py_buffer(digests)])
    return pa.Table.from_arrays([ids, digest, places], schema=DIGESTS)


def read_jsonl_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class FileFacts:
    """What the writer of a data file measured of it (its size, time, SHA-256, and for Parquet
    its rows and Arrow size), so that the release's metadata need not read it again."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    rows: int = 0
    arrow_bytes: int = 0


def file_facts(path: Path, rows: int = 0, arrow_bytes: int = 0, digest: str | None = None) -> FileFacts:
    """A file's facts; `digest` is its SHA-256 where its writer hashed it as it wrote."""
    found = path.stat()
    return FileFacts(str(path), found.st_size, found.st_mtime_ns, digest or sha256(path), rows, arrow_bytes)


_known: dict[str, FileFacts] = {}


@contextmanager
def known_files(facts: Iterable[FileFacts]) -> Iterator[None]:
    """Inside the block, `sha256` and `known` answer from the writers' facts for files that have
    not changed since (same size and modification time), instead of reading them again."""
    _known.update((f.path, f) for f in facts)
    try:
        yield
    finally:
        _known.clear()


def known(path: Path) -> FileFacts | None:
    """The writer's facts about a file, if they are given and the file is as it left it."""
    facts = _known.get(str(path))
    if facts is None:
        return None
    found = path.stat()
    return facts if (found.st_size, found.st_mtime_ns) == (facts.size, facts.mtime_ns) else None


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (or as its writer measured it, see `known_files`)."""
    facts = known(path)
    if facts is not None:
        return facts.sha256
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
