"""Records → an Arrow table with the schema's types → Parquet and JSONL shards, deterministically.

Rows are sorted by (date, page, id); shards are cut by the records' size so that no shard grows
without bound, and the JSONL shards hold exactly the rows of the Parquet shard of the same number.
Nothing written depends on the clock or the machine: the same records give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from builder import schema
from builder.config import BuildConfig
from builder.sources import to_jsonl_line

SPLIT = "train"
DATA_DIR = "data"
SORT_FIELDS = ("date", "page", "id")


def sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """(date, page, id), a record without a page after those with one on the same date."""
    page = record.get("page")
    return (str(record["date"]), page is None, page or 0, record["id"])


def plain(record: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """A record as JSON gives it: fields in schema order, dates as YYYY-MM-DD, absent fields left out."""
    names = names or schema.field_names()
    out = {}
    for name in names:
        value = record.get(name)
        if value is not None:
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def to_table(records: Sequence[dict[str, Any]], arrow_schema: pa.Schema | None = None) -> pa.Table:
    """The records as an Arrow table of the schema's types (dates become date32)."""
    arrow_schema = arrow_schema or schema.arrow_schema()
    dates = {f.name for f in arrow_schema if pa.types.is_date32(f.type)}
    rows = [
        {k: dt.date.fromisoformat(v) if k in dates and isinstance(v, str) else v for k, v in r.items()}
        for r in records
    ]
    return pa.Table.from_pylist(rows, schema=arrow_schema)


def plan_shards(records: Sequence[dict[str, Any]], max_bytes: int) -> list[range]:
    """Consecutive row ranges whose JSON size stays under `max_bytes` (a shard has at least one row)."""
    shards: list[range] = []
    start, size = 0, 0
    for i, record in enumerate(records):
        n = len(to_jsonl_line(record, schema.field_names()).encode("utf-8")) + 1
        if i > start and size + n > max_bytes:
            shards.append(range(start, i))
            start, size = i, 0
        size += n
    if len(records) > start:
        shards.append(range(start, len(records)))
    return shards


def shard_name(index: int, count: int, suffix: str) -> str:
    return f"{SPLIT}-{index:05d}-of-{count:05d}.{suffix}"


def write_data(records: Sequence[dict[str, Any]], data_dir: Path, settings: BuildConfig) -> list[Path]:
    """Write the sorted records as Parquet and JSONL shards; return the files written."""
    rows = sorted(records, key=sort_key)
    data_dir.mkdir(parents=True, exist_ok=True)
    shards = plan_shards(rows, settings.max_shard_bytes)
    written = []
    for index, rng in enumerate(shards):
        part = rows[rng.start : rng.stop]
        parquet = data_dir / shard_name(index, len(shards), "parquet")
        write_parquet_shard(to_table(part), parquet, settings)
        jsonl = data_dir / shard_name(index, len(shards), "jsonl")
        write_jsonl_shard(part, jsonl)
        written += [parquet, jsonl]
    return written


def write_parquet_shard(table: pa.Table, path: Path, settings: BuildConfig) -> None:
    """zstd, bounded row groups, statistics, the sort order declared; nothing clock-dependent."""
    names = table.schema.names
    order = [pq.SortingColumn(names.index(n), descending=False, nulls_first=False) for n in SORT_FIELDS]
    pq.write_table(
        table,
        path,
        row_group_size=settings.row_group_rows,
        compression="zstd",
        compression_level=settings.zstd_level,
        write_statistics=True,
        sorting_columns=order,
    )


def write_jsonl_shard(records: Iterable[dict[str, Any]], path: Path) -> None:
    """One record per line, UTF-8 as is (no \\u escapes), absent fields left out."""
    names = schema.field_names()
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(to_jsonl_line(record, names) + "\n")


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


def read_records(release: Path) -> list[dict[str, Any]]:
    return table_records(read_table(release))


def read_jsonl_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
