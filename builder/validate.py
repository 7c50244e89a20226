"""Validation: schema, content rules and corpus-wide checks over article files.

`validate_paths` streams the files, checks every record against the JSON Schema and the content
rules, then runs the corpus rules (duplicate ids, identical bodies). It returns every problem it
finds in one run; it never raises on bad input.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from builder import bylines, rules, schema
from builder.catalog import RULES
from builder.diagnostics import ERROR, WARNING, Diagnostic
from builder.sources import Source, read_all

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
    spec = RULES[rule_id]
    return Diagnostic(
        file=src.path,
        line=line,
        col=col,
        rule=rule_id,
        severity=spec.severity,
        message=message,
        hint=hint or spec.hint,
        name=spec.name,
        pointer=pointer,
        record=src.record_id,
    )


# --- corpus ------------------------------------------------------------------------------


class CorpusIndex:
    """Corpus-wide checks that need one small entry per record, not the records themselves."""

    def __init__(self) -> None:
        self.ids: dict[str, tuple[str, int]] = {}
        self.bodies: dict[bytes, tuple[str, int, str]] = {}

    def add(self, src: Source) -> Iterator[Diagnostic]:
        record_id = src.data.get("id")
        if isinstance(record_id, str):
            first = self.ids.get(record_id)
            if first:
                yield make(
                    src,
                    "D301",
                    f"id {record_id} is also used in {first[0]}:{first[1]}",
                    line=src.line_of("id"),
                    col=src.col_of("id"),
                    pointer="/id",
                )
            else:
                self.ids[record_id] = (src.path, src.line_of("id"))
        body = src.data.get("body")
        if isinstance(body, str) and body.strip():
            key = hashlib.blake2b(body.encode("utf-8"), digest_size=16).digest()
            first_body = self.bodies.get(key)
            if first_body:
                other = first_body[2] or f"{first_body[0]}:{first_body[1]}"
                yield make(
                    src,
                    "D302",
                    f"the body is identical to that of {other} ({first_body[0]})",
                    line=src.line_of("body"),
                    pointer="/body",
                )
            else:
                self.bodies[key] = (src.path, src.line_of("body"), src.record_id)


# --- running -----------------------------------------------------------------------------


def check_source(
    src: Source, index: CorpusIndex, validator: jsonschema.protocols.Validator
) -> list[Diagnostic]:
    """Schema, content and corpus diagnostics of one record."""
    found = schema_diagnostics(src, validator)
    found.extend(rules.check(src))
    found.extend(index.add(src))
    return found


def iter_checked(
    paths: Iterable[str | os.PathLike[str]], report: Report
) -> Iterator[tuple[Source, list[Diagnostic]]]:
    """Stream every record with its diagnostics; file-level problems go straight to the report."""
    validator = schema.validator()
    index = CorpusIndex()
    for result in read_all(paths):
        report.files += 1
        report.diagnostics.extend(result.diagnostics)
        for src in result.sources:
            report.records += 1
            found = check_source(src, index, validator)
            report.diagnostics.extend(found)
            yield src, found


def validate_paths(paths: Iterable[str | os.PathLike[str]]) -> Report:
    """Validate every article file under the paths and return the full report."""
    report = Report()
    for _ in iter_checked(paths, report):
        pass
    return report


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
