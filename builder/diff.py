"""What changed between two versions of the dataset, and how big a version step that is.

Records are matched by id; schemas field by field. The change decides the semver step: a field
whose type changes breaks readers (major); added or removed articles or fields are minor;
corrections to records or to the schema's wording and bounds are a patch.

Each side of a comparison gives a compact table of its records' ids and digests; only the
records whose digests differ are read again, to say which fields changed. So a release of a
million articles is compared without holding either side's records.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from builder import corpus, schema
from builder.layout import change_note
from builder.scratch import Scratch

LEVELS = ("none", "patch", "minor", "major")
LIST_LIMIT = 100
DETAIL_BATCH = 1024  # records read again at a time to find what changed
DIGESTS = pa.schema([("id", pa.string()), ("digest", pa.binary(16)), ("at", pa.int64())])
IDS = pa.schema([("ids", pa.string())])
JOIN_ROWS = 1 << 16  # a side's rows joined at a time, where a side has more (see `joined`)
MAX_PART_BITS = 8  # at most 256 parts: a side's split keeps a file open for each
JOIN_PREFIX = "newsset-join-"


@dataclass(frozen=True)
class FieldChange:
    """One change to the schema: a field added, removed, retyped, or otherwise changed."""

    name: str
    kind: str  # added | removed | retyped | changed
    detail: str = ""

    @property
    def level(self) -> str:
        return {"retyped": "major", "added": "minor", "removed": "minor"}.get(self.kind, "patch")

    def describe(self) -> str:
        words = {"added": "added", "removed": "removed", "retyped": "type changed", "changed": "changed"}
        return f"{self.name} {words[self.kind]}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Changes:
    """The comparison of an old record set and schema with a new one."""

    old_count: int
    new_count: int
    added: Sequence[str] = field(default_factory=list)
    removed: Sequence[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    schema_changes: list[FieldChange] = field(default_factory=list)
    dates: tuple[str, str] = ("", "")
    field_names: list[str] = field(default_factory=list)
    first: bool = False
    formats: tuple[int, int] | None = None  # release format before and after, when it changed

    @property
    def level(self) -> str:
        """The smallest semver step that honestly describes the change."""
        found = [c.level for c in self.schema_changes]
        if self.added or self.removed or self.formats:
            found.append("minor")
        if self.changed:
            found.append("patch")
        return max(found, key=LEVELS.index, default="none")

    def reason(self) -> str:
        """Why the change is of its level, in a few words."""
        parts = [c.describe() for c in self.schema_changes if c.level == self.level]
        if self.level == "minor":
            parts += [f"{len(self.added)} added"] if self.added else []
            parts += [f"{len(self.removed)} removed"] if self.removed else []
            parts += [f"release format {self.formats[0]} → {self.formats[1]}"] if self.formats else []
        if self.level == "patch" and self.changed:
            parts.append(f"{len(self.changed)} changed")
        return ", ".join(parts) or "nothing changed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_count": self.old_count,
            "new_count": self.new_count,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": self.changed,
            "schema": [asdict(c) for c in self.schema_changes],
            "release_format": list(self.formats) if self.formats else None,
            "level": self.level,
        }


def record_digest(record: dict[str, Any]) -> bytes:
    """128 bits that are equal for equal plain records: their JSON (keys in the record's order,
    as a JSONL line has them) hashed; `line_digest` of that line gives the same bits.

    Equal digests mean equal records; different ones are checked by comparing the records, so
    that what JSON writes differently but Python finds equal (keys in another order, 1 and 1.0)
    is no change.
    """
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=typed)
    return line_digest(text.encode("utf-8", "surrogatepass"))


def line_digest(line: bytes) -> bytes:
    return xxhash.xxh3_128_digest(line)


def typed(value: Any) -> str:
    """A non-JSON value for the digest, with its type (so a date never equals its text)."""
    return f"{type(value).__name__}:{value!r}"


class Side(Protocol):
    """One side of a comparison: a set of plain records (see build.plain) with unique ids."""

    @property
    def count(self) -> int:
        """How many records."""
        ...

    def digests(self) -> Iterable[pa.Table]:
        """`id`, `digest` (record_digest, or the line_digest of its release line: the same bits)
        and `at` (where the record is, for records_at), a table at a time: a table is let go
        before the next is read."""
        ...

    def ids(self) -> Iterable[pa.Array]:
        """The records' ids (all a first release needs), in any order, a chunk at a time: a
        chunk is let go before the next is read."""
        ...

    def records_at(self, at: Sequence[int]) -> list[dict[str, Any]]:
        """The plain records at these places, in the same order."""
        ...

    def span(self) -> tuple[str, str]:
        """The first and last date of the records (YYYY-MM-DD), ("", "") if there are none."""
        ...


class Listed:
    """Records in a list as a Side (a later record wins over an earlier one with its id)."""

    def __init__(self, records: Sequence[dict[str, Any]]) -> None:
        self.records = list({r["id"]: r for r in records}.values())
        self.dates = sorted(str(r["date"]) for r in records)

    @property
    def count(self) -> int:
        return len(self.records)

    def digests(self) -> Iterable[pa.Table]:
        yield pa.Table.from_pydict(
            {
                "id": [r["id"] for r in self.records],
                "digest": [record_digest(r) for r in self.records],
                "at": list(range(len(self.records))),
            },
            schema=DIGESTS,
        )

    def ids(self) -> Iterable[pa.Array]:
        yield pa.array([r["id"] for r in self.records], pa.string())

    def records_at(self, at: Sequence[int]) -> list[dict[str, Any]]:
        return [self.records[i] for i in at]

    def span(self) -> tuple[str, str]:
        return (self.dates[0], self.dates[-1]) if self.dates else ("", "")


def compare(
    old_records: list[dict[str, Any]] | None,
    new_records: list[dict[str, Any]],
    old_schema: dict[str, Any] | None,
    new_schema: dict[str, Any],
    formats: tuple[int, int] | None = None,
) -> Changes:
    """Compare plain records (see build.plain), schemas and release formats (old, new); no old
    side means a first release."""
    old = Listed(old_records) if old_records is not None else None
    return compare_sides(old, Listed(new_records), old_schema, new_schema, formats)


def compare_sides(
    old: Side | None,
    new: Side,
    old_schema: dict[str, Any] | None,
    new_schema: dict[str, Any],
    formats: tuple[int, int] | None = None,
) -> Changes:
    """Compare two sides by their digests, reading again only the records whose digests differ.
    A first release (no old side) needs only its ids."""
    first = old is None
    changes = Changes(
        old_count=0,
        new_count=0,
        schema_changes=compare_schemas(old_schema, new_schema) if old_schema is not None else [],
        dates=new.span(),
        field_names=schema.field_names(new_schema),
        first=first,
        formats=formats if formats and formats[0] != formats[1] and not first else None,
    )
    if old is None:
        changes.added = spilled(new.ids()).ids()
        changes.new_count = len(changes.added)
        return changes
    differ = []
    with Spill() as added, Spill() as removed:
        for both in joined(new.digests(), old.digests(), max(new.count, old.count)):
            in_new, in_old = pc.is_valid(both["digest_new"]), pc.is_valid(both["digest_old"])
            changes.new_count += int(pc.sum(in_new).as_py() or 0)
            changes.old_count += int(pc.sum(in_old).as_py() or 0)
            added.add(both.filter(pc.and_not(in_new, in_old)).column("id").combine_chunks())
            removed.add(both.filter(pc.and_not(in_old, in_new)).column("id").combine_chunks())
            other = pc.not_equal(both["digest_new"], both["digest_old"])
            differ.append(
                both.filter(pc.and_(pc.and_(in_new, in_old), other)).select(["id", "at_new", "at_old"])
            )
    changes.added, changes.removed = added.ids(), removed.ids()
    changes.changed = changed_fields(pa.concat_tables(differ), old, new)
    return changes


def joined(after: Iterable[pa.Table], before: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Both sides' digests joined on id (full outer; `_new` and `_old` columns), a part of the
    ids at a time. Where a side has more than JOIN_ROWS rows, each side is first split by a hash
    of the ids into files of about that many rows (`split`), and the parts are joined one by
    one: memory holds a part of each side, not both sides whole (some 100 bytes an article)."""
    bits = part_bits(rows)
    if not bits:
        yield join(
            pa.concat_tables([DIGESTS.empty_table(), *after]),
            pa.concat_tables([DIGESTS.empty_table(), *before]),
        )
        return
    with Scratch(JOIN_PREFIX) as scratch:
        new_parts = split(after, bits, scratch.path / "new")
        old_parts = split(before, bits, scratch.path / "old")
        for new_part, old_part in zip(new_parts, old_parts, strict=True):
            yield join(read_part(new_part), read_part(old_part))
            # Arrow's allocator keeps what a join freed (some 40 MB for a part) unless told
            pa.default_memory_pool().release_unused()


def join(after: pa.Table, before: pa.Table) -> pa.Table:
    return after.join(
        before, "id", join_type="full outer", left_suffix="_new", right_suffix="_old", use_threads=False
    )


def part_bits(rows: int) -> int:
    """Bits of an id's hash that name its part: enough for parts of about JOIN_ROWS rows, at
    most 2 ** MAX_PART_BITS parts (files open at once)."""
    return min(MAX_PART_BITS, math.ceil(math.log2(rows / JOIN_ROWS))) if rows > JOIN_ROWS else 0


def split(tables: Iterable[pa.Table], bits: int, folder: Path) -> list[Path | None]:
    """Rows of the tables into one Arrow stream file a part (`id_parts`), a table at a time; the
    path of each part's file, None where no row went."""
    folder.mkdir()
    writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
    try:
        for table in tables:
            parts = id_parts(table.column("id"), bits)
            order = np.argsort(parts, kind="stable")
            bounds = np.searchsorted(parts[order], np.arange((1 << bits) + 1))
            for part in np.flatnonzero(np.diff(bounds)).tolist():
                if part not in writers:
                    writers[part] = pa.ipc.new_stream(str(folder / f"{part}.arrow"), DIGESTS)
                writers[part].write_table(table.take(pa.array(order[bounds[part] : bounds[part + 1]])))
    finally:
        for writer in writers.values():
            writer.close()
    return [folder / f"{part}.arrow" if part in writers else None for part in range(1 << bits)]


def id_parts(ids: pa.ChunkedArray | pa.Array, bits: int) -> np.ndarray:
    """Each id's part: the top `bits` bits of its hash (`corpus.text_hashes`, the corpus
    checks' hash of ids), so that an id falls in the same part on both sides."""
    return (corpus.text_hashes(ids.to_pylist()) >> np.uint64(64 - bits)).astype(np.intp)


def read_part(path: Path | None) -> pa.Table:
    if path is None:
        return DIGESTS.empty_table()
    with pa.OSFile(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def sorted_ids(ids: pa.ChunkedArray) -> IdList:
    return IdList(on_disk(ids.take(pc.sort_indices(ids)).chunks))


def on_disk(chunks: Iterable[pa.Array]) -> pa.ChunkedArray:
    """The chunks read back from a file mapped into memory (`Spill`), so that their pages are
    the page cache's, read in as they are touched, not the process's own: a changelog entry
    touches its first ids and the count, and the new ids of a million articles (some 30 MB)
    are then not held for the rest of a build."""
    return read_ids(spilled(chunks, head=0).source())


def spilled(chunks: Iterable[pa.Array], head: int = LIST_LIMIT) -> Spill:
    """The chunks written to a Spill."""
    with Spill(head) as spill:
        for chunk in chunks:
            spill.add(chunk)
    return spill


class Spill:
    """Ids written a chunk at a time to a file, then opened mapped into memory and unlinked at
    once (its pages live while it is mapped); the first `head` of them (in sorted order) are
    chosen as they come. A `with` block writes it; leaving it on an error removes the file."""

    def __init__(self, head: int = LIST_LIMIT) -> None:
        handle, self.path = tempfile.mkstemp(prefix="newsset-ids-", suffix=".arrow")
        os.close(handle)
        self.head = head
        self.count = 0
        self.firsts: list[pa.Array] = []
        self.sink = pa.OSFile(self.path, "wb")
        self.writer = pa.ipc.new_file(self.sink, IDS)
        self.mapped: pa.NativeFile | None = None

    def add(self, chunk: pa.Array) -> None:
        self.writer.write_batch(pa.record_batch([chunk], schema=IDS))
        self.firsts.append(smallest(chunk, self.head))
        self.count += len(chunk)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.writer.close()
        self.sink.close()
        if kind is not None:
            os.remove(self.path)

    def first(self) -> pa.Array:
        return smallest(pa.chunked_array(self.firsts, pa.string()), self.head)

    def source(self) -> pa.NativeFile:
        """The written file, mapped and unlinked; where an open file cannot be removed, its
        bytes read into memory instead."""
        if self.mapped is None:
            self.mapped = pa.memory_map(self.path)
            try:
                os.remove(self.path)
            except OSError:  # pragma: no cover - where an open file cannot be removed (Windows)
                self.mapped.close()
                with pa.OSFile(self.path) as copy:
                    self.mapped = pa.BufferReader(copy.read_buffer())
                os.remove(self.path)
        return self.mapped

    def ids(self) -> SortedIds:
        return SortedIds(self)


def read_ids(source: pa.NativeFile) -> pa.ChunkedArray:
    return pa.ipc.open_file(source).read_all().column(0)


def smallest(ids: pa.Array | pa.ChunkedArray, count: int) -> pa.Array:
    """The `count` smallest ids, sorted."""
    if count <= 0:
        return pa.nulls(0, pa.string())  # not pa.array([]): a conversion imports pandas
    chosen = ids.take(pc.select_k_unstable(ids, count, sort_keys=[("id", "ascending")]))
    return chosen.combine_chunks() if isinstance(chosen, pa.ChunkedArray) else chosen


class IdList(Sequence[str]):
    """Ids kept as one Arrow array: a million take some 30 MB, not the 80 of Python strings
    (and, as `sorted_ids` makes them, in a mapped file, see `on_disk`).

    A read-only list of str for everything else: it indexes, slices (to a list), iterates and
    compares equal to a list of the same ids.
    """

    def __init__(self, ids: pa.Array | pa.ChunkedArray) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.ids[index].to_pylist()
        return self.ids[index].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self.ids), 65536):
            yield from self.ids[start : start + 65536].to_pylist()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return repr(self[:10])[:-1] + (f", … {len(self)} in all]" if len(self) > 10 else "]")


class SortedIds(IdList):
    """Ids given in any order, read as a sorted IdList, that are sorted only when read past
    their first `head` (what a changelog entry lists, see `describe`).

    The first are chosen as the ids come in, a chunk at a time, and the ids wait unsorted in
    a mapped file (`Spill`), not read: a first release's comparison holds one chunk (a run's
    ids) at a time, not a million ids and their sorted copy (70 MB). Reading past the first
    sorts them all, once, as `sorted_ids` does.
    """

    def __init__(self, spill: Spill) -> None:
        self.unsorted, self.count, self.first = spill.source(), spill.count, spill.first()
        self.all: IdList | None = None

    @property  # type: ignore[override]
    def ids(self) -> pa.Array | pa.ChunkedArray:
        if self.all is None:
            self.all = sorted_ids(read_ids(self.unsorted))
        return self.all.ids

    def __len__(self) -> int:
        return self.count

    def __reduce__(self) -> tuple[Any, ...]:
        return IdList, (self.ids,)  # a mapped file does not travel: the sorted ids do

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1 and stop <= len(self.first):
                return self.first[start:stop].to_pylist()
        elif isinstance(index, int) and 0 <= index < len(self.first):
            return self.first[index].as_py()
        return super().__getitem__(index)


def changed_fields(candidates: pa.Table, old: Side, new: Side) -> dict[str, list[str]]:
    """id → the fields that differ, for the records whose digests differ (sorted by id).

    They are read in the old side's order, a batch at a time, so that each part of it is read
    once however many records changed.
    """
    candidates = candidates.sort_by("at_old")
    ids = candidates.column("id").to_pylist()
    at_old = candidates.column("at_old").to_numpy()
    at_new = candidates.column("at_new").to_numpy()
    found = {}
    for start in range(0, len(ids), DETAIL_BATCH):
        part = slice(start, start + DETAIL_BATCH)
        pairs = zip(old.records_at(at_old[part].tolist()), new.records_at(at_new[part].tolist()), strict=True)
        for record_id, (a, b) in zip(ids[part], pairs, strict=True):
            if a != b:
                found[record_id] = differing_keys(a, b)
    return {i: found[i] for i in sorted(found)}


def differing_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of either dict whose values differ, in order of appearance."""
    return [key for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)]


def compare_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Field by field: added, removed, a new Arrow type (breaking), other edits (bounds, wording)."""
    before = {f.name: f for f in schema.fields(old)}
    after = {f.name: f for f in schema.fields(new)}
    out = [FieldChange(n, "added") for n in after if n not in before]
    out += [FieldChange(n, "removed") for n in before if n not in after]
    for name in (n for n in after if n in before):
        old_type, new_type = schema.arrow_type(before[name].spec), schema.arrow_type(after[name].spec)
        if old_type != new_type:
            out.append(FieldChange(name, "retyped", f"{old_type} → {new_type}"))
            continue
        edits = differing_keys(before[name].spec, after[name].spec)
        if before[name].required != after[name].required:
            edits.append("now required" if after[name].required else "now optional")
        if edits:
            out.append(FieldChange(name, "changed", ", ".join(edits)))
    rest = [k for k in differing_keys(old, new) if k not in ("properties", "required")]
    if rest:
        out.append(FieldChange("(schema)", "changed", ", ".join(rest)))
    return out


def id_list(ids: list[str], limit: int | None = LIST_LIMIT) -> str:
    if not ids:
        return "none"
    if limit is None or len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more (newsset diff lists all)"


def describe(changes: Changes, old_label: str = "", limit: int | None = LIST_LIMIT) -> list[str]:
    """The comparison as Markdown list items, the same in the changelog, the card and `diff`."""
    span = f"from {changes.dates[0]} to {changes.dates[1]}"
    if changes.first:
        return [
            f"First release: {changes.new_count} articles {span}.",
            f"Added ({len(changes.added)}): {id_list(changes.added, limit)}",
            f"Schema: {len(changes.field_names)} fields ({', '.join(changes.field_names)})",
        ]
    was = f" (was {changes.old_count}" + (f" in {old_label})" if old_label else ")")
    changed = [f"{i} ({', '.join(fields)})" for i, fields in changes.changed.items()]
    schema_text = "; ".join(c.describe() for c in changes.schema_changes) or "unchanged"
    lines = [
        f"{changes.new_count} articles {span}{was}.",
        f"Added ({len(changes.added)}): {id_list(changes.added, limit)}",
        f"Removed ({len(changes.removed)}): {id_list(changes.removed, limit)}",
        f"Changed ({len(changes.changed)}): {id_list(changed, limit)}",
        f"Schema: {schema_text}",
    ]
    if changes.formats:
        lines.append(f"Release format: {change_note(*changes.formats)}")
    return lines
