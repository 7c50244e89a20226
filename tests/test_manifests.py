"""A shard's writer measures its files (SHA-256, sizes, rows, Arrow bytes) where it writes them;
the release's metadata takes those figures instead of reading the files again, but only for a
file that has not changed since."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builder import build, card, runs
from builder.config import BuildConfig
from tests.conftest import ARTICLES, valid_record


def lines_of(count: int) -> pa.Buffer:
    """A row group's JSONL bytes: `count` records, each line ended by its newline."""
    record = build.plain(valid_record())
    lines = [
        json.dumps(dict(record, id=f"{record['id'][:-2]}{n:02d}"), ensure_ascii=False) for n in range(count)
    ]
    return pa.py_buffer("".join(line + "\n" for line in lines).encode("utf-8"))


def test_a_shard_writer_measures_what_the_driver_would(tmp_path: Path) -> None:
    groups = [lines_of(3), lines_of(2)]
    tally = runs.write_counted_shard(iter(groups), 0, 1, tmp_path, BuildConfig(row_group_rows=3))
    parquet, jsonl = tally.files
    assert Path(parquet.path) == tmp_path / build.shard_name(0, 1, "parquet")
    assert Path(jsonl.path) == tmp_path / build.shard_name(0, 1, "jsonl")
    for facts in tally.files:  # read again outside `known_files`: the same figures
        assert facts.sha256 == build.sha256(Path(facts.path))
        assert facts.size == Path(facts.path).stat().st_size
    assert (
        (parquet.rows, parquet.arrow_bytes) == card.arrow_size(Path(parquet.path)) == (5, parquet.arrow_bytes)
    )
    assert parquet.arrow_bytes > 0


def test_known_facts_are_used_only_for_unchanged_files(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes((ARTICLES / "2020/11/09/pinghu-20201109-p01-01.md").read_bytes())
    true = build.sha256(path)
    claimed = build.FileFacts(str(path), path.stat().st_size, path.stat().st_mtime_ns, "0" * 64)
    with build.known_files([claimed]):
        assert build.sha256(path) == "0" * 64  # taken from the writer, not read
        path.write_bytes(path.read_bytes() + b"\n")  # the file changed: read it again
        assert build.sha256(path) == build.sha256(path) != "0" * 64
    path.write_bytes(path.read_bytes()[:-1])
    assert build.sha256(path) == true  # outside the block nothing is remembered


def test_arrow_size_is_the_size_of_the_table_pq_read_table_gives(tmp_path: Path) -> None:
    """Measured a batch at a time, with the cuts of pq.read_table's reader: a row group of more
    than SCAN_BATCH rows is read in two batches there too, each with its own offsets and
    validity bits."""
    rows = card.SCAN_BATCH + 7
    table = pa.table(
        {
            "word": pa.array([f"词{n % 97}" if n % 5 else None for n in range(rows)], pa.string()),
            "n": pa.array(range(rows), pa.int64()),
        }
    )
    path = tmp_path / "big.parquet"
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table, row_group_size=rows)  # one row group of more than a batch
        writer.write_table(table.slice(0, 1000), row_group_size=600)  # and two small ones
    assert pq.ParquetFile(path).num_row_groups == 3
    assert card.arrow_size(path) == (rows + 1000, pq.read_table(path).nbytes)


def test_measuring_a_shard_does_not_import_pandas(tmp_path: Path) -> None:
    """A shard writer measures its Parquet file without `pyarrow.dataset`, which imports pandas
    (some 100 MB more in each writer process)."""
    tally = runs.write_counted_shard(iter([lines_of(2)]), 0, 1, tmp_path, BuildConfig())
    script = (
        "import sys; from pathlib import Path; from builder import card; "
        f"card.arrow_size(Path({tally.files[0].path!r})); print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_counted_values_come_in_the_order_they_first_appear() -> None:
    """`card.counted` gives what a Counter counting the values one by one gives, in the same
    order (the card lists sections with as many articles in the order they first appear)."""
    rng = random.Random(4)
    names = ["经济", "要闻", None, "社会", "文体", "B"]
    for _ in range(50):
        chunks = [
            [rng.choice(names) for _ in range(rng.randrange(0, 30))] for _ in range(rng.randrange(1, 4))
        ]
        column = pa.chunked_array([pa.array(chunk, pa.string()) for chunk in chunks], pa.string())
        expected = Counter(value for chunk in chunks for value in chunk)
        assert list(card.counted(column).items()) == list(expected.items())
