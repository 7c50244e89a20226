"""Corpus rules: duplicate ids (D301), identical bodies (D302) and near-duplicates (D303).

Each unit of work keeps a few hashed keys per record (`KeyColumns`); `CorpusIndex` writes them
to disk in input order and finds the records that share a key, reading only those records again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

import numpy as np
import xxhash

from builder import neardup, rules, screens
from builder.diagnostics import Diagnostic
from builder.keyfiles import KeyFiles, same_key_pairs
from builder.sources import Source, record_at


class KeyColumns:
    """What the corpus checks keep of each record: hashes, a position and a sketch.

    About 150 bytes a record of one unit, in numpy arrays, whatever the record's size
    (`CorpusIndex` writes them to disk); the records themselves are read again only for the
    few that a check reports.
    """

    def __init__(self) -> None:
        self.file: list[int] = []
        self.line: list[int] = []
        self.offset: list[int] = []
        self.id_hash: list[np.ndarray] = []
        self.body_hash: list[np.ndarray] = []
        self.sketch_rows: list[np.ndarray] = []

    def add(self, sources: Sequence[Source], file_indexes: Sequence[int], sketches: np.ndarray) -> None:
        """The keys of a batch of records, in input order, with their bodies' sketches
        (`screens.screen`)."""
        self.file.extend(file_indexes)
        self.line.extend([src.line for src in sources])
        self.offset.extend([src.offset for src in sources])
        self.id_hash.append(text_hashes([src.data.get("id") for src in sources]))
        bodies = [src.data.get("body") for src in sources]
        self.body_hash.append(text_hashes([b if isinstance(b, str) and b.strip() else None for b in bodies]))
        self.sketch_rows.append(sketches)

    def arrays(self) -> dict[str, np.ndarray]:
        sketch = (
            np.concatenate(self.sketch_rows) if self.sketch_rows else np.empty((0, neardup.BINS), np.uint32)
        )
        return {
            "file": np.array(self.file, dtype=np.uint32),
            "line": np.array(self.line, dtype=np.uint32),
            "offset": np.array(self.offset, dtype=np.uint64),
            "id_hash": np.concatenate([np.empty(0, np.uint64), *self.id_hash]),
            "body_hash": np.concatenate([np.empty(0, np.uint64), *self.body_hash]),
            "sketch": sketch,
        }


ID_HASH, BODY_HASH = "id_hash", "body_hash"
NAMES, NAME_AT = "files", "name_at"  # the files' names, one after the other; where each starts, its size
CACHED_RECORDS = 256  # records read again and kept for the next reports


# A string's characters as Python stores them, by bytes per character; in UTF-16, the byte of
# each code unit that is 0 for a Latin-1 character.
_WIDTHS = {1: "latin-1", 2: f"utf-16-{sys.byteorder[0]}e", 4: f"utf-32-{sys.byteorder[0]}e"}
_HIGH = 1 if sys.byteorder == "little" else 0


def text_hash(value: str) -> int:
    """A 64-bit hash that is never 0 (0 stands for "no value"), of any string, lone surrogates
    too: xxh3 of its characters as Python stores them (one, two or four bytes each, the
    narrowest width that holds them all, so that equal strings give equal bytes), seeded with
    that width. `text_hashes` computes the same in C, reading the characters in place instead
    of encoding a copy of them."""
    return xxhash.xxh3_64_intdigest(*stored(value)) or 1


def stored(value: str) -> tuple[bytes, int]:
    """A string's characters as Python stores them, and their width in bytes."""
    if value.isascii():
        return value.encode("ascii"), 1
    data = value.encode(_WIDTHS[2], "surrogatepass")
    if len(data) != 2 * len(value):  # surrogate pairs: characters past U+FFFF
        return value.encode(_WIDTHS[4], "surrogatepass"), 4
    if not data[_HIGH::2].strip(b"\0"):
        return value.encode(_WIDTHS[1]), 1
    return data, 2


def text_hashes(values: list[object]) -> np.ndarray:
    """`text_hash` of each value that is a string, 0 for the others, as a uint64 array."""
    out = np.zeros(len(values), dtype=np.uint64)
    if screens.native():
        screens.compiled().hashes(values, xxhash.xxh3_64_intdigest, out)
    else:
        out[:] = [text_hash(v) if isinstance(v, str) else 0 for v in values]
    return out


class CorpusIndex:
    """Duplicate ids, identical bodies and near-duplicate bodies across the whole input.

    Units add their key columns in input order; they go to files in a scratch folder as they
    arrive (builder/keyfiles.py). `diagnostics` groups the hashes from disk to find the records
    that share one, reads just those records again to confirm and to say where, and reports
    each later record against the first one. The folder is removed at the end of
    `diagnostics`, by `close`, or on leaving a `with` block.
    """

    def __init__(self) -> None:
        self.keys = KeyFiles()
        self.near = neardup.NearDuplicates(self.keys)
        self.file_count = 0
        self.maps: dict[str, np.ndarray] = {}  # columns mapped from their files, once read

    def __enter__(self) -> CorpusIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.maps.clear()
        self.keys.close()

    def add(self, files: tuple[str, ...], columns: dict[str, np.ndarray]) -> None:
        names = [name.encode("utf-8", "surrogateescape") for name in files]
        sizes = np.array([len(name) for name in names], dtype=np.int64)
        with (self.keys.folder / NAMES).open("ab") as out:
            start = out.tell()
            out.write(b"".join(names))
        starts = start + np.cumsum(sizes) - sizes
        self.keys.append(NAME_AT, np.stack([starts, sizes], axis=1).reshape(-1, 2))
        self.keys.append("file", columns["file"] + np.uint32(self.file_count))
        self.file_count += len(files)
        for name in ("line", "offset", ID_HASH, BODY_HASH):
            self.keys.append(name, columns[name])
        self.near.add(columns["sketch"])

    def column(self, name: str) -> np.ndarray:
        if name not in self.maps:
            self.maps[name] = self.keys.map(name)
        return self.maps[name]

    def file_name(self, index: int) -> str:
        start, size = (int(n) for n in self.column(NAME_AT)[index])
        with (self.keys.folder / NAMES).open("rb") as source:
            source.seek(start)
            return source.read(size).decode("utf-8", "surrogateescape")

    def record(self, index: int, cache: dict[int, Source | None]) -> Source | None:
        if index not in cache:
            if len(cache) >= CACHED_RECORDS:
                del cache[next(iter(cache))]  # the oldest: reports come in runs of one key
            file, line, offset = (int(self.column(n)[index]) for n in ("file", "line", "offset"))
            cache[index] = record_at(self.file_name(file), offset, line)
        return cache[index]

    def diagnostics(self) -> list[Diagnostic]:
        try:
            if not self.keys.rows(ID_HASH):
                return []
            cache: dict[int, Source | None] = {}
            found = list(self.duplicate_ids(cache))
            found.extend(self.identical_bodies(cache))
            found.extend(self.near_duplicates(self.column(BODY_HASH), cache))
            return found
        finally:
            self.close()

    def duplicate_ids(self, cache: dict[int, Source | None]) -> Iterator[Diagnostic]:
        for first, later in same_key_pairs(self.keys, ID_HASH):
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None or a.data.get("id") != b.data.get("id"):
                continue  # a hash collision, not a duplicate
            where = f"{a.path}:{a.line_of('id')}"
            yield rules.at_field(b, "D301", "id", f"id {b.record_id} is also used in {where}")

    def identical_bodies(self, cache: dict[int, Source | None]) -> Iterator[Diagnostic]:
        for first, later in same_key_pairs(self.keys, BODY_HASH):
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None or a.data.get("body") != b.data.get("body"):
                continue
            yield same_body(a, b, "D302", "identical to")

    def near_duplicates(self, body_hash: np.ndarray, cache: dict[int, Source | None]) -> Iterator[Diagnostic]:
        for first, later, score in self.near.pairs():
            if body_hash[first] == body_hash[later]:
                continue  # identical: D302 says so
            a, b = self.record(first, cache), self.record(later, cache)
            if a is None or b is None:
                continue
            yield same_body(a, b, "D303", f"nearly identical (about {score:.0%}) to")


def same_body(a: Source, b: Source, rule_id: str, how: str) -> Diagnostic:
    """D302 or D303: the body of `b` is `how` that of the earlier `a` (named by its id, or by
    where its body is)."""
    other = a.record_id or f"{a.path}:{a.line_of('body')}"
    return rules.diagnostic(
        b, rule_id, f"the body is {how} that of {other} ({a.path})", line=b.line_of("body"), pointer="/body"
    )
