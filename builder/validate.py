"""Validation: schema, content rules and corpus-wide checks over article files.

`validate_paths` streams the files, checks every record against the JSON Schema and the content
rules, then runs the corpus rules (duplicate ids, identical bodies). It returns every problem it
finds in one run; it never raises on bad input.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jsonschema
import xxhash

from builder import bylines, catalog, rules, schema
from builder.catalog import RULES
from builder.diagnostics import ERROR, WARNING, Diagnostic
from builder.sources import Source, iter_article_files, iter_file

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


def id_agreement(src: Source) -> Iterator[Diagnostic]:
    """The id's date and page label must match the record's date and page."""
    record_id, date, page = src.data.get("id"), src.data.get("date"), src.data.get("page")
    if not isinstance(record_id, str):
        return
    parts = ID_PARTS.match(record_id)
    if not parts:
        return
    where = {"line": src.line_of("id"), "col": src.col_of("id"), "pointer": "/id"}
    if isinstance(date, str) and parts["date"] != date.replace("-", ""):
        yield make(
            src,
            "S008",
            f"id {record_id} says date {parts['date']} but date is {date}",
            hint=f"use the id {record_id.replace(parts['date'], date.replace('-', ''), 1)} "
            "or correct the date",
            **where,
        )
    label_match = PAGE_LABEL.match(parts["page"])
    if label_match and isinstance(page, int) and not isinstance(page, bool) and int(label_match[1]) != page:
        yield make(
            src,
            "S008",
            f"id {record_id} says page {parts['page']} but page is {page}",
            hint=f"use page label p{page:02d} in the id, or correct the page",
            **where,
        )


def make(
    src: Source, rule_id: str, message: str, line: int, col: int = 1, hint: str = "", pointer: str = ""
) -> Diagnostic:
    return rules.diagnostic(src, rule_id, message, line=line, col=col, hint=hint, pointer=pointer)


# --- corpus ------------------------------------------------------------------------------


class CorpusKey(NamedTuple):
    """What the corpus checks need of one record: a few numbers, not the record."""

    path: str
    id_line: int
    id_col: int
    body_line: int
    record_id: str | None
    body_digest: bytes | None


def corpus_key(src: Source) -> CorpusKey:
    record_id = src.data.get("id")
    body = src.data.get("body")
    digest = None
    if isinstance(body, str) and body.strip():
        digest = xxhash.xxh3_128_digest(body.encode("utf-8"))
    has_id = isinstance(record_id, str)
    return CorpusKey(
        src.path,
        src.line_of("id"),
        src.col_of("id") if has_id else 1,
        src.line_of("body"),
        record_id if has_id else None,
        digest,
    )


class CorpusIndex:
    """Duplicate ids and identical bodies, from one compact key per record, in input order."""

    def __init__(self) -> None:
        self.ids: dict[str, tuple[str, int]] = {}
        self.bodies: dict[bytes, tuple[str, int, str]] = {}

    def add(self, key: CorpusKey) -> Iterator[Diagnostic]:
        record = key.record_id or ""
        if key.record_id is not None:
            first = self.ids.get(key.record_id)
            if first:
                yield catalog.diagnostic(
                    "D301",
                    key.path,
                    key.id_line,
                    f"id {key.record_id} is also used in {first[0]}:{first[1]}",
                    col=key.id_col,
                    pointer="/id",
                    record=record,
                )
            else:
                self.ids[key.record_id] = (key.path, key.id_line)
        if key.body_digest is not None:
            first_body = self.bodies.get(key.body_digest)
            if first_body:
                other = first_body[2] or f"{first_body[0]}:{first_body[1]}"
                yield catalog.diagnostic(
                    "D302",
                    key.path,
                    key.body_line,
                    f"the body is identical to that of {other} ({first_body[0]})",
                    pointer="/body",
                    record=record,
                )
            else:
                self.bodies[key.body_digest] = (key.path, key.body_line, record)


# --- running -----------------------------------------------------------------------------


def check_schema(src: Source) -> list[Diagnostic]:
    """Schema diagnostics of one record.

    The compiled validator answers "valid?" for the common clean record; only an invalid one
    goes through the reference `jsonschema` validator, which says where and why.
    """
    fast = schema.fast_validator()
    if fast is not None and fast.is_valid(src.data):
        return list(id_agreement(src))
    return schema_diagnostics(src)


def check_record(src: Source) -> list[Diagnostic]:
    """Schema and content diagnostics of one record."""
    return check_schema(src) + rules.check(src)


@dataclass(frozen=True)
class Unit:
    """A piece of work for one process: some files, or a byte range of one JSONL file."""

    files: tuple[str, ...]
    start: int = 0
    end: int | None = None


@dataclass
class UnitResult:
    files: int = 0
    records: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    keys: list[CorpusKey] = field(default_factory=list)


CHUNK_BYTES = 32 << 20
MD_FILES_PER_UNIT = 256
PARALLEL_BYTES = 16 << 20


def plan_units(paths: Iterable[str | os.PathLike[str]], chunk_bytes: int = CHUNK_BYTES) -> list[Unit]:
    """Split the input into units: large JSONL files into line-aligned byte ranges."""
    units: list[Unit] = []
    pending: list[str] = []
    for name in iter_article_files(paths):
        size = os.path.getsize(name) if os.path.isfile(name) else 0
        if name.endswith(".jsonl") and size > chunk_bytes:
            units.extend(Unit((name,), a, b) for a, b in line_ranges(name, size, chunk_bytes))
            continue
        pending.append(name)
        if len(pending) >= MD_FILES_PER_UNIT or name.endswith(".jsonl"):
            units.append(Unit(tuple(pending)))
            pending = []
    if pending:
        units.append(Unit(tuple(pending)))
    return units


def line_ranges(name: str, size: int, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about `chunk_bytes` that start at the beginning of a line."""
    with open(name, "rb") as handle:
        start = 0
        while start < size:
            handle.seek(min(start + chunk_bytes, size))
            if start + chunk_bytes < size:
                handle.readline()
            end = min(handle.tell(), size)
            yield start, end
            start = end


def iter_unit(unit: Unit) -> Iterator[Source | Diagnostic]:
    for name in unit.files:
        yield from iter_file(name, unit.start, unit.end)


def check_unit(unit: Unit) -> UnitResult:
    """Validate one unit; return its diagnostics and the keys for the corpus checks."""
    result = UnitResult(files=len(unit.files) if unit.start == 0 else 0)
    for item in iter_unit(unit):
        if isinstance(item, Diagnostic):
            result.diagnostics.append(item)
            continue
        result.records += 1
        result.diagnostics.extend(check_record(item))
        result.keys.append(corpus_key(item))
    return result


def default_jobs(units: list[Unit]) -> int:
    """Use every core when the input is big enough to repay starting the workers."""
    total = sum(os.path.getsize(f) for u in units if u.start == 0 for f in u.files if os.path.isfile(f))
    ranged = sum((u.end or 0) - u.start for u in units if u.start or u.end)
    if len(units) < 2 or total + ranged < PARALLEL_BYTES:
        return 1
    return min(len(units), os.cpu_count() or 1)


def run_units(units: list[Unit], jobs: int) -> Iterator[UnitResult]:
    """Results in unit order, whatever the number of worker processes."""
    if jobs <= 1:
        yield from map(check_unit, units)
        return
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    )
    with context.Pool(jobs) as pool:
        yield from pool.imap(check_unit, units, chunksize=1)


def validate_paths(paths: Iterable[str | os.PathLike[str]], jobs: int | None = None) -> Report:
    """Validate every article file under the paths and return the full report.

    Files (and byte ranges of big JSONL files) are checked in worker processes; the corpus
    checks then run over the records' keys in input order, so the report does not depend on
    the number of processes.
    """
    units = plan_units(paths)
    report = Report()
    index = CorpusIndex()
    for result in run_units(units, jobs if jobs is not None else default_jobs(units)):
        report.files += result.files
        report.records += result.records
        report.diagnostics.extend(result.diagnostics)
        for key in result.keys:
            report.diagnostics.extend(index.add(key))
    return report


def iter_checked(
    paths: Iterable[str | os.PathLike[str]], report: Report
) -> Iterator[tuple[Source, list[Diagnostic]]]:
    """Stream every record with its diagnostics, in one process (for callers that need records)."""
    index = CorpusIndex()
    for unit in plan_units(paths):
        report.files += len(unit.files) if unit.start == 0 else 0
        for item in iter_unit(unit):
            if isinstance(item, Diagnostic):
                report.diagnostics.append(item)
                continue
            report.records += 1
            found = check_record(item)
            found.extend(index.add(corpus_key(item)))
            report.diagnostics.extend(found)
            yield item, found


def to_record(data: dict[str, Any]) -> dict[str, Any]:
    """A validated record in schema order, with `authors` derived from `byline` when absent."""
    record = {name: data.get(name) for name in schema.field_names()}
    if record.get("authors") is None and isinstance(record.get("byline"), str):
        record["authors"] = bylines.authors_of(record["byline"]) or None
    return record


def load_corpus(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[dict[str, Any]], Report]:
    """Validate the corpus and return its records (schema order, authors derived) and the report."""
    report = Report()
    records = [to_record(src.data) for src, _found in iter_checked(paths, report)]
    return records, report
