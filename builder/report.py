"""Diagnostics → text for people, one JSON document for machines, GitHub annotations for CI."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from builder.diagnostics import ERROR, Diagnostic

FORMATS = ("text", "json", "github")
_COLOURS = {"error": "red", "warning": "yellow"}


def format_text(diagnostics: Sequence[Diagnostic], colour: bool = False) -> str:
    """`file:line:col  severity  rule-id  message  (hint)`, one per line."""
    lines = []
    for d in diagnostics:
        where = f"{d.file}:{d.line}:{d.col}"
        severity = click.style(d.severity, fg=_COLOURS.get(d.severity), bold=True) if colour else d.severity
        rule = click.style(d.rule, bold=True) if colour else d.rule
        hint = f"  ({d.hint})" if d.hint else ""
        lines.append(f"{where}  {severity}  {rule}  {d.message}{hint}")
    return "\n".join(lines)


def summary(files: int, records: int, diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    warnings = len(diagnostics) - errors
    return (
        f"Checked {files} file{'s' * (files != 1)}, {records} record{'s' * (records != 1)}: "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}."
    )


def format_json(files: int, records: int, diagnostics: Sequence[Diagnostic]) -> str:
    """One JSON document: counts and the list of diagnostics."""
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    doc = {
        "summary": {
            "files": files,
            "records": records,
            "errors": errors,
            "warnings": len(diagnostics) - errors,
        },
        "diagnostics": [d.as_dict() for d in diagnostics],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """Workflow commands that GitHub shows as annotations on the pull request's files."""
    lines = []
    for d in diagnostics:
        level = "error" if d.severity == ERROR else "warning"
        title = _escape_property(f"{d.rule} {d.name}".strip())
        message = _escape_data(d.message + (f" ({d.hint})" if d.hint else ""))
        lines.append(
            f"::{level} file={_escape_property(d.file)},line={d.line},col={d.col},title={title}::{message}"
        )
    return "\n".join(lines)
