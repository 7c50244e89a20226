"""Validation: schema, content rules and corpus-wide checks over article files.

`validate_paths` streams the files, checks every record against the JSON Schema and the content
rules, then runs the corpus rules (duplicate ids, identical bodies). It returns every problem it
finds in one run; it never raises on bad input.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from builder import corpus, locations, rules, schema, screens, workers
from builder.catalog import RULES
from builder.diagnostics import ERROR, WARNING, Diagnostic
from builder.progress import Progress
from builder.sources import (
    Source,
    iter_article_files,
    iter_file,
    read_markdown_text,
    to_markdown,
)

if TYPE_CHECKING:  # the reference validator is imported where a record is invalid
    import jsonschema

ID_PARTS = re.compile(r"^(?P<slug>.+)-(?P<date>\d{8})-(?P<page>[a-z0-9]+)-(?P<n>\d{2,})$")
PAGE_LABEL = re.compile(r"^p(\d+)$")

_KEYWORD_RULES = {
    "required": "S001",
    "additionalProperties": "S002",
    "type": "S003",
    "pattern": "S004",
    "format": "S004",
    "minLength": "S005",
    "maxLength": "S005",
    "minimum": "S005",
    "maximum": "S005",
    "minItems": "S005",
    "maxItems": "S005",
    "enum": "S006",
    "const": "S006",
}


@dataclass
class Report:
    """What a validation run found: every diagnostic and the counts."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    records: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == WARNING)

    def failed(self, strict: bool = False) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics)


# --- schema ------------------------------------------------------------------------------


def schema_diagnostics(
    src: Source, validator: jsonschema.protocols.Validator | None = None
) -> list[Diagnostic]:
    """Every schema violation of one record, each at its field's line with a hint."""
    validator = validator or schema.validator()
    found = sorted(
        validator.iter_errors(src.data), key=lambda e: (list(map(str, e.absolute_path)), e.validator)
    )
    pattern_failed = {tuple(e.absolute_path) for e in found if e.validator == "pattern"}
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for err in found:
        if err.validator == "format" and tuple(err.absolute_path) in pattern_failed:
            continue  # one complaint per value: the shape first
        for diag in diagnose(src, err, validator.schema):
            if (diag.rule, diag.pointer) not in seen:  # `required` repeats per missing field
                seen.add((diag.rule, diag.pointer))
                out.append(diag)
    out.extend(id_agreement(src))
    return out


def diagnose(src: Source, err: jsonschema.ValidationError, root: dict[str, Any]) -> Iterator[Diagnostic]:
    path = list(err.absolute_path)
    top = str(path[0]) if path else None
    pointer = "/" + "/".join(str(p) for p in path) if path else ""
    where = {"line": src.line_of(top), "col": src.col_of(top)}
    spec = field_spec(root, path)
    if err.validator == "required":
        missing = [n for n in err.validator_value if n not in err.instance]
        for name in missing:
            hint = field_spec(root, [*path, name]).get("x-hint") or RULES["S001"].hint
            yield make(
                src,
                "S001",
                f"missing required field '{label(path, name)}'",
                hint=hint,
                pointer=f"{pointer}/{name}",
                **where,
            )
        return
    if err.validator == "additionalProperties":
        known = list(schema.nested_properties(spec) or spec.get("properties", {}))
        for name in sorted(set(err.instance) - set(known)):
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
            line = src.line_of(str(name)) if not path else where["line"]
            col = src.col_of(str(name)) if not path else where["col"]
            yield make(
                src,
                "S002",
                f"unknown field '{label(path, name)}'",
                hint=hint,
                pointer=f"{pointer}/{name}",
                line=line,
                col=col,
            )
        return
    rule_id = _KEYWORD_RULES.get(str(err.validator), "S006")
    if err.validator == "format" and spec.get("format") == "date":
        rule_id = "S007"
    name = label(path[:-1], path[-1]) if path else "record"
    message = f"{name}: {describe(err)}"
    yield make(src, rule_id, message, hint=spec.get("x-hint", ""), pointer=pointer, **where)


def describe(err: jsonschema.ValidationError) -> str:
    """A short message in plain words for one schema error."""
    value = err.instance
    shown = repr(value) if not isinstance(value, str) or len(value) <= 30 else repr(value[:29] + "…")
    kind = err.validator
    if kind == "type":
        return f"expected {err.validator_value}, got {type_name(value)} {shown}"
    if kind == "format":
        return f"{shown} is not a real calendar date" if err.validator_value == "date" else err.message
    if kind == "pattern":
        return f"{shown} does not have the required form"
    if kind == "minLength":
        return (
            "must not be empty"
            if err.validator_value == 1
            else f"shorter than {err.validator_value} characters"
        )
    if kind == "maxLength":
        return f"longer than {err.validator_value} characters ({len(value)})"
    if kind in ("minimum", "maximum"):
        return f"{shown} is {'below' if kind == 'minimum' else 'above'} the {kind} {err.validator_value}"
    if kind in ("minItems", "maxItems"):
        return f"has {len(value)} items ({kind} {err.validator_value})"
    if kind == "enum":
        return f"{shown} is not one of {', '.join(map(str, err.validator_value))}"
    return err.message


def type_name(value: Any) -> str:
    return {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "array",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def label(path: list[Any], name: Any) -> str:
    parts = [*[str(p) for p in path], str(name)]
    out = parts[0]
    for part in parts[1:]:
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def field_spec(root: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    """The schema node that describes the value at a path (array indexes skipped)."""
    node = root
    for part in path:
        node = node.get("items", {}) if isinstance(part, int) else node.get("properties", {}).get(part, {})
    return node


def id_agrees(data: dict[str, Any]) -> bool:
    """`id_agreement`'s screen: true when the id's date and page label plainly match (its last
    three `-` parts are those `ID_PARTS` takes when it matches); false says "look closer"."""
    record_id, date, page = data.get("id"), data.get("date"), data.get("page")
    if not isinstance(record_id, str) or not isinstance(date, str):
        return False
    parts = record_id.rsplit("-", 3)
    if len(parts) != 4 or parts[1] != date.replace("-", ""):
        return False
    if not isinstance(page, int) or isinstance(page, bool):
        return True
    label = parts[2]
    return not (label[:1] == "p" and label[1:].isdecimal() and label.isascii()) or int(label[1:]) == page


def id_agreement(src: Source) -> Iterator[Diagnostic]:
    """The id's date and page label must match the record's date and page."""
    record_id, date, page = src.data.get("id"), src.data.get("date"), src.data.get("page")
    if not isinstance(record_id, str):
        return
    parts = ID_PARTS.match(record_id)
    if not parts:
        return
    if isinstance(date, str) and parts["date"] != date.replace("-", ""):
        yield rules.at_field(
            src,
            "S008",
            "id",
            f"id {record_id} says date {parts['date']} but date is {date}",
            hint=f"use the id {record_id.replace(parts['date'], date.replace('-', ''), 1)} "
            "or correct the date",
        )
    label_match = PAGE_LABEL.match(parts["page"])
    if label_match and isinstance(page, int) and not isinstance(page, bool) and int(label_match[1]) != page:
        yield rules.at_field(
            src,
            "S008",
            "id",
            f"id {record_id} says page {parts['page']} but page is {page}",
            hint=f"use page label p{page:02d} in the id, or correct the page",
        )


def make(
    src: Source, rule_id: str, message: str, line: int, col: int = 1, hint: str = "", pointer: str = ""
) -> Diagnostic:
    return rules.diagnostic(src, rule_id, message, line=line, col=col, hint=hint, pointer=pointer)


# --- running -----------------------------------------------------------------------------


def check_schema(src: Source) -> list[Diagnostic]:
    """Schema diagnostics of one record.

    The compiled validator answers "valid?" for the common clean record; only an invalid one
    goes through the reference `jsonschema` validator, which says where and why.
    """
    fast = schema.fast_validator()
    if fast is not None and fast.is_valid(src.data):
        return [] if id_agrees(src.data) else list(id_agreement(src))
    return schema_diagnostics(src)


def check_record(src: Source, flags: frozenset[str] | None = None) -> list[Diagnostic]:
    """Schema and content diagnostics of one record (`flags`: see `rules.check`)."""
    return check_schema(src) + rules.check(src, flags=flags)


# Records whose bodies are screened together. A batch's records, parsed, stay in a core's own
# cache (some 5 KB each) until every check is done with them: 1,024 records did not, and took
# a fifth more time a record than 128.
BATCH_RECORDS = 128


def batch_flags(sources: list[Source], body: list[frozenset[str]]) -> list[frozenset[str] | None]:
    """The flags of the batch screens (`rules.check`) for the JSONL records of a batch, from the
    flags of their bodies (`screens.body_flags`), of their text fields and of the other rules
    (`rules.others_flags`); None for the others (.md, whose paragraphs keep their own lines),
    whose rules screen themselves."""
    jsonl = [i for i, src in enumerate(sources) if src.format == "jsonl"]
    out: list[frozenset[str] | None] = [None] * len(sources)
    if not jsonl:
        return out
    records = [sources[i].data for i in jsonl]
    fields = screens.field_flags(records, rules.TEXT_FIELDS)
    others = rules.others_flags(records)
    for i, raised_fields, raised_others in zip(jsonl, fields, others, strict=True):
        raised = body[i] | raised_fields if raised_fields else body[i]
        out[i] = raised | raised_others if raised_others else raised
    return out


def clean_records(sources: list[Source], flags: list[frozenset[str] | None]) -> list[bool]:
    """For each record of a batch: does `check_record` plainly have nothing to say about it?

    True where the compiled validator passes it, its id agrees with its date and page
    (`ids_agree`), and no batch screen is raised: `check_record` would return no diagnostic,
    so the batch's clean records skip its calls. False sends a record to `check_record`.
    """
    fast = schema.fast_validator()
    if fast is None:
        return [False] * len(sources)
    records = [src.data for src in sources]
    is_valid = fast.is_valid
    return [
        raised is not None and not raised and agrees and is_valid(data)
        for data, raised, agrees in zip(records, flags, ids_agree(records), strict=True)
    ]


def ids_agree(records: list[dict[str, Any]]) -> list[bool]:
    """`id_agrees` of each record, in C (`_scan.ids_agree`) where it is built; the C answers
    false where it cannot tell, which only sends a record to the closer look."""
    if not screens.native():
        return [id_agrees(data) for data in records]
    answers = np.zeros(len(records), dtype=np.int8)
    screens.compiled().ids_agree(records, answers)
    return answers.astype(bool).tolist()


def batches(items: Iterator[tuple[int, Source | Diagnostic]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def validate_record(record: dict[str, Any], path: str = "<record>") -> list[Diagnostic]:
    """What `newsset validate` says about one in-memory record, as the `.md` file it would be.

    The record is rendered with the writer `extract` uses and read back, so lines and columns
    are those of the file it would be saved as. Corpus rules (duplicates) need the whole
    corpus and are not run.
    """
    text = to_markdown(record, schema.field_names())
    result = read_markdown_text(path, text)
    found = list(result.diagnostics)
    for src in result.sources:
        found.extend(check_record(src))
    return sorted(found)


@dataclass(frozen=True)
class Unit:
    """A piece of work for one process: some files, or a byte range of one JSONL file."""

    files: tuple[str, ...]
    start: int = 0
    end: int | None = None
    first_line: int | None = None
    # A range whose lines nobody counted before it: its results number lines from 1 at `start`,
    # and `place` moves them to their lines in the file once the ranges before it are counted.
    lines_relative: bool = False


@dataclass
class UnitResult:
    files: int = 0
    records: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    output: Any = None  # what a caller's work made of the unit's records (the build's sorted run)
    lines: int = 0  # newlines in the unit's range (for a unit whose lines are relative)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == ERROR)


CHUNK_BYTES = 32 << 20
MD_FILES_PER_UNIT = 256
PARALLEL_BYTES = 16 << 20


def plan_units(
    paths: Iterable[str | os.PathLike[str]], chunk_bytes: int | None = None, files: int | None = None
) -> list[Unit]:
    """Split the input into units of about `chunk_bytes`: large JSONL files into line-aligned
    byte ranges, small files in groups of at most `files`."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    files = files or MD_FILES_PER_UNIT
    units: list[Unit] = []
    pending: list[str] = []
    pending_bytes = 0
    for name in iter_article_files(paths):
        size = locations.size(name)
        if name.endswith(".jsonl") and size > chunk_bytes:
            units.extend(
                Unit((name,), a, b, 1, lines_relative=True) for a, b in line_ranges(name, size, chunk_bytes)
            )
            continue
        pending.append(name)
        pending_bytes += size
        if len(pending) >= files or pending_bytes >= chunk_bytes or name.endswith(".jsonl"):
            units.append(Unit(tuple(pending)))
            pending, pending_bytes = [], 0
    if pending:
        units.append(Unit(tuple(pending)))
    return units


def line_ranges(name: str, size: int, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """(start, end) of ranges of about `chunk_bytes` that start at a line's start.

    Only the line that each cut falls in is read: the lines are counted by the workers, each
    in its own range as it reads it (`sources.LineReader`), not by one read of the whole file
    before they start.
    """
    with locations.open_binary(name) as handle:
        start = 0
        while start < size:
            end = min(start + chunk_bytes, size)
            if end < size:
                handle.seek(end)
                end += len(handle.readline())
            yield start, end
            start = end


class LineOffsets:
    """The lines of a file before each of its ranges, counted as the ranges' results come in
    unit order: what `place` adds to the line numbers of a unit whose lines are relative."""

    def __init__(self) -> None:
        self.before: dict[str, int] = {}

    def next(self, unit: Unit, lines: int) -> int:
        """This unit's offset (0 unless its lines are relative); `lines` is its `UnitResult.lines`."""
        if not unit.lines_relative:
            return 0
        name = unit.files[0]
        offset = self.before.get(name, 0)
        self.before[name] = offset + lines
        return offset


def place(result: UnitResult, offset: int) -> UnitResult:
    """A unit's result with its line numbers moved down by `offset` lines (see LineOffsets)."""
    if offset:
        result.diagnostics = [dataclasses.replace(d, line=d.line + offset) for d in result.diagnostics]
        if "line" in result.columns:
            result.columns = {**result.columns, "line": result.columns["line"] + np.uint32(offset)}
    return result


def iter_unit(unit: Unit, newlines: list[int] | None = None) -> Iterator[tuple[int, Source | Diagnostic]]:
    """(index of the file within the unit, record or problem), in input order (`newlines`: see
    `sources.iter_jsonl`)."""
    for index, name in enumerate(unit.files):
        for item in iter_file(name, unit.start, unit.end, unit.first_line, newlines):
            yield index, item


def check_unit(unit: Unit, keep: Callable[[Source, list[Diagnostic]], None] | None = None) -> UnitResult:
    """Validate one unit; return its diagnostics and the keys for the corpus checks.

    `keep`, when given, sees every record with its diagnostics, in input order (the build
    collects the records it will write this way, in the same pass).
    """
    with workers.fewer_collections():
        return checked_unit(unit, keep)


def checked_unit(unit: Unit, keep: Callable[[Source, list[Diagnostic]], None] | None) -> UnitResult:
    result = UnitResult(files=len(unit.files) if unit.start == 0 else 0)
    newlines: list[int] = []
    keys = corpus.KeyColumns()
    for items in batches(iter_unit(unit, newlines), BATCH_RECORDS):
        records = [(index, item) for index, item in items if isinstance(item, Source)]
        sources = [src for _, src in records]
        bodies = screens.texts_of([src.data.get("body") for src in sources])
        screened = screens.screen(bodies, screens.BATCHED, sketch=True)
        flags = batch_flags(sources, screened.flags)
        checks = iter(zip(flags, clean_records(sources, flags), strict=True))
        for _, item in items:
            if isinstance(item, Diagnostic):
                result.diagnostics.append(item)
                continue
            result.records += 1
            raised, clean = next(checks)
            found = [] if clean else check_record(item, raised)
            if found:
                result.diagnostics.extend(found)
            if keep is not None:
                keep(item, found)
        keys.add(sources, [index for index, _ in records], screened.sketches)
    result.columns = keys.arrays()
    if unit.lines_relative:  # counted as the lines were read
        result.lines = sum(newlines)
    return result


def default_jobs(units: list[Unit]) -> int:
    """Use every core when the input is big enough to repay starting the workers."""
    total = sum(locations.size(f) for u in units if u.start == 0 for f in u.files)
    ranged = sum((u.end or 0) - u.start for u in units if u.start or u.end)
    if len(units) < 2 or total + ranged < PARALLEL_BYTES:
        return 1
    return min(len(units), os.cpu_count() or 1)


def run_units(
    units: list[Unit],
    jobs: int,
    work: Callable[[Unit], UnitResult] = check_unit,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[UnitResult]:
    """Results in unit order, whatever the number of worker processes (`meanwhile`: see
    `workers.imap`)."""
    if jobs > 1 and len(units) > 1:
        prepare()
    return workers.imap(work, units, jobs, meanwhile)


def prepare() -> None:
    """Build here what checking records builds once a process: the screens' class table and the
    schema's compiled validator. The worker processes forked next share them, instead of each
    building its own on the way to its first unit (50 ms), while this process would wait."""
    screens.sparse_table()
    schema.fast_validator()


def unit_bytes(unit: Unit) -> int:
    if unit.end is not None:
        return unit.end - unit.start
    return sum(locations.size(f) for f in unit.files)


def validate_paths(
    paths: Iterable[str | os.PathLike[str]], jobs: int | None = None, progress: bool | None = None
) -> Report:
    """Validate every article file under the paths and return the full report.

    Files (and byte ranges of big JSONL files) are checked in worker processes; the corpus
    checks then run over the records' keys in input order, so the report does not depend on
    the number of processes. On the Ray engine the same work runs as Ray Data stages.
    """
    if workers.current() == "ray":
        from builder import ray_stages

        return ray_stages.validate_paths(paths)
    report, _ = check_units(plan_units(paths), jobs=jobs, progress=progress)
    return report


def check_units(
    units: list[Unit],
    work: Callable[[Unit], UnitResult] = check_unit,
    jobs: int | None = None,
    progress: bool | None = None,
    meanwhile: Callable[[], object] | None = None,
    checked: Callable[[list[Any]], object] | None = None,
) -> tuple[Report, list[Any]]:
    """Run `work` (check_unit, or a caller's function around it) over the units, then the
    corpus checks; return the report and each unit's `output`, in unit order. `meanwhile` is
    what this process does while the workers start (`workers.imap`); `checked`, what it starts
    with the outputs once every unit is checked, before the corpus checks (the build's merge)."""
    report = Report()
    outputs = []
    results = run_units(units, jobs if jobs is not None else default_jobs(units), work, meanwhile)
    shown = Progress(sum(map(unit_bytes, units)), enabled=progress)
    offsets = LineOffsets()
    with corpus.CorpusIndex() as index:
        for unit, result in zip(units, results, strict=True):
            place(result, offsets.next(unit, result.lines))
            report.files += result.files
            report.records += result.records
            report.diagnostics.extend(result.diagnostics)
            index.add(unit.files, result.columns)
            outputs.append(result.output)
            shown.update(result.files, result.records, unit_bytes(unit))
        shown.close()
        if checked is not None:
            checked(outputs)
        report.diagnostics.extend(index.diagnostics())
    return report, outputs
