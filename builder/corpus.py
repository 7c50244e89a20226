"""Corpus rules: duplicate ids (D301), identical bodies (D302) and near-duplicates (D303).

Each unit of work keeps a few hashed keys per record (`KeyColumns`); `CorpusIndex` gathers them
in input order and finds the records that share a key, reading only those records again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import xxhash

from builder import neardup, rules, screens
from builder.diagnostics import Diagnostic
from builder.sources import Source, record_at


class KeyColumns:
    """What the corpus checks keep of each record: hashes, a position and a sketch.

    About 150 bytes a record, in numpy arrays, whatever the record's size; the records
    themselves are read again only for the few that a check reports.
    """

    def __init__(self) -> None:
        self.file: list[int] = []
        self.line: list[int] = []
        self.offset: list[int] = []
        self.id_hash: list[int] = []
        self.body_hash: list[int] = []
        self.sketch_rows: list[np.ndarray] = []

    def add(self, sources: Sequence[Source], file_indexes: Sequence[int], batch: screens.Batch) -> None:
        """The keys of a batch of records, in input order; `batch` holds their bodies
        (`screens.Batch` of `screens.texts_of` their bodies), encoded once for every check."""
        code_bytes = memoryview(batch.cp).cast("B")
        spans = zip(batch.starts.tolist(), batch.ends.tolist(), strict=True)
        for src, file_index, (start, end) in zip(sources, file_indexes, spans, strict=True):
            record_id, body = src.data.get("id"), src.data.get("body")
            self.file.append(file_index)
            self.line.append(src.line)
            self.offset.append(src.offset)
            self.id_hash.append(text_hash(record_id) if isinstance(record_id, str) else 0)
            has_body = isinstance(body, str) and bool(body.strip())
            self.body_hash.append(bytes_hash(code_bytes[4 * start : 4 * end]) if has_body else 0)
        self.sketch_rows.append(batch.sketches())

    def arrays(self) -> dict[str, np.ndarray]:
        sketch = (
            np.concatenate(self.sketch_rows) if self.sketch_rows else np.empty((0, neardup.BINS), np.uint32)
        )
        return {
            "file": np.array(self.file, dtype=np.uint32),
            "line": np.array(self.line, dtype=np.uint32),
            "offset": np.array(self.offset, dtype=np.uint64),
            "id_hash": np.array(self.id_hash, dtype=np.uint64),
            "body_hash": np.array(self.body_hash, dtype=np.uint64),
            "sketch": sketch,
        }


def text_hash(value: str) -> int:
    """A 64-bit hash that is never 0 (0 stands for "no value")."""
    return bytes_hash(value.encode("utf-8"))


def bytes_hash(value: bytes | memoryview) -> int:
    return xxhash.xxh3_64_intdigest(value) or 1


class CorpusIndex:
    """Duplicate ids, identical bodies and near-duplicate bodies across the whole input.

    Units add their key columns in input order; `diagnostics` sorts the hashes to find the
    records that share one, reads just those records again to confirm and to say where, and
    reports each later record against the first one.
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self.parts: list[dict[str, np.ndarray]] = []
        self.near = neardup.NearDuplicates()

    def add(self, files: tuple[str, ...], columns: dict[str, np.ndarray]) -> None:
        base = len(self.files)
        self.files.extend(files)
        self.parts.append({**columns, "file": columns["file"] + np.uint32(base)})
        self.near.add(columns["sketch"])

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in self.parts]) if self.parts else np.empty(0, np.uint64)

    def record(self, index: int, cache: dict[int, Source | None]) -> Source | None:
        if index not in cache:
            cache[index] = record_at(
                self.files[int(self.file[index])], int(self.offset[index]), int(self.line[index])
            )
        return cache[index]

    def diagnostics(self) -> list[Diagnostic]:
        if not self.parts:
            return []
        self.file, self.line, self.offset = self.column("file"), self.column("line"), self.column("offset")
        cache: dict[int, Source | None] = {}
        found = list(self.duplicate_ids(cache))
        body_hash = self.column("body_hash")
        found.extend(self.identical_bodies(body_hash, cache))
        found.extend(self.near_duplicates(body_hash, cache))
        return found

    def duplicate_ids(self, cache: dict[int, Source | None]) -> Iterator[Diagnostic]:
        for first, later in same_hash_groups(self.column("id_hash")):
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None or a.data.get("id") != b.data.get("id"):
                continue  # a hash collision, not a duplicate
            yield rules.diagnostic(
                b,
                "D301",
                f"id {b.record_id} is also used in {a.path}:{a.line_of('id')}",
                line=b.line_of("id"),
                col=b.col_of("id"),
                pointer="/id",
            )

    def identical_bodies(
        self, body_hash: np.ndarray, cache: dict[int, Source | None]
    ) -> Iterator[Diagnostic]:
        for first, later in same_hash_groups(body_hash):
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None or a.data.get("body") != b.data.get("body"):
                continue
            other = a.record_id or f"{a.path}:{a.line_of('body')}"
            yield rules.diagnostic(
                b,
                "D302",
                f"the body is identical to that of {other} ({a.path})",
                line=b.line_of("body"),
                pointer="/body",
            )

    def near_duplicates(self, body_hash: np.ndarray, cache: dict[int, Source | None]) -> Iterator[Diagnostic]:
        for first, later, score in self.near.pairs():
            if body_hash[first] == body_hash[later]:
                continue  # identical: D302 says so
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None:
                continue
            other = a.record_id or f"{a.path}:{a.line_of('body')}"
            yield rules.diagnostic(
                b,
                "D303",
                f"the body is nearly identical (about {score:.0%}) to that of {other} ({a.path})",
                line=b.line_of("body"),
                pointer="/body",
            )


def same_hash_groups(hashes: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, later) index pairs of records sharing a non-zero hash, in input order."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    repeated = np.flatnonzero((ordered[1:] == ordered[:-1]) & (ordered[1:] != 0)) + 1
    first = -1
    for pos in repeated:
        if first < 0 or ordered[first] != ordered[pos]:
            first = pos - 1  # the run's first element: the earliest record, as the sort is stable
        yield int(order[first]), int(order[pos])
