"""Safe fixes in place: join hard wraps, drop justification spaces, full-width punctuation, NFC.

A fix never changes a word: each one removes a layout artefact that the content rules report
(C101, C201, C202, C204). Files are rewritten atomically; `check=True` only reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from builder import text
from builder.rules import TITLE_FIELDS, remove_stray_gaps, wrapped_runs
from builder.sources import FENCE, decode, is_blank, iter_article_files, replace_file, yaml_scalar

FIXED_FIELDS = ("source", "section", *TITLE_FIELDS)


@dataclass(frozen=True)
class Change:
    file: str
    line: int
    rule: str
    description: str


@dataclass
class FixReport:
    changes: list[Change] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


StepList = list[tuple[str, str, Callable[[str], str]]]
LINE_STEPS: StepList = [
    ("C204", "normalised to NFC", text.nfc),
    ("C201", "removed spaces between CJK characters", text.remove_justified_spaces),
    ("C202", "made punctuation full-width", text.fullwidth_punctuation),
]


BODY_STEPS: StepList = [("C209", "removed stray spaces", remove_stray_gaps)]


def fix_value(value: str, file: str, line: int, changes: list[Change], where: str) -> str:
    """Apply the per-line fixes to one string, recording each that changed something."""
    for rule_id, what, step in LINE_STEPS + (BODY_STEPS if where == "body" else []):
        fixed = step(value)
        if fixed != value:
            changes.append(Change(file, line, rule_id, f"{where}: {what}"))
            value = fixed
    return value


def fix_markdown(path: str, content: str, changes: list[Change]) -> str:
    """Fix the body's paragraphs and the one-line title fields of an .md article."""
    lines = content.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise ValueError("no front matter")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in (FENCE, "...")), None)
    if end is None:
        raise ValueError("front matter not closed")
    head = [fix_front_line(path, i + 1, line, changes) for i, line in enumerate(lines[: end + 1])]
    body_out: list[str] = []
    paragraph: list[tuple[int, str]] = []

    def flush() -> None:
        if not paragraph:
            return
        first_line = paragraph[0][0]
        if len(paragraph) > 1:
            joined = text.join_wrapped([t for _n, t in paragraph])
            changes.append(Change(path, first_line, "C101", f"joined {len(paragraph)} hard-wrapped lines"))
        else:
            joined = paragraph[0][1]
        body_out.append(fix_value(joined, path, first_line, changes, "body"))
        paragraph.clear()

    for offset, raw in enumerate(lines[end + 1 :]):
        line = raw.rstrip("\r \t")
        if not is_blank(line):
            paragraph.append((end + 2 + offset, line))
        else:
            flush()
    flush()
    return "\n".join(head) + "\n\n" + "\n\n".join(body_out) + "\n"


def fix_front_line(path: str, number: int, line: str, changes: list[Change]) -> str:
    """Fix a `field: value` line of a title field; other lines only get NFC."""
    key, sep, value = line.partition(": ")
    if sep and key in FIXED_FIELDS and value and not value.startswith(('"', "'", "|", ">")):
        fixed = fix_value(value, path, number, changes, key)
        return f"{key}: {yaml_scalar(fixed)}" if fixed != value else line
    fixed = text.nfc(line)
    if fixed != line:
        changes.append(Change(path, number, "C204", "normalised to NFC"))
    return fixed


def fix_jsonl(path: str, content: str, changes: list[Change]) -> str:
    out = []
    for number, line in enumerate(content.split("\n"), start=1):
        try:
            data = json.loads(line) if not is_blank(line) else None
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            out.append(line)
            continue
        before = json.dumps(data, ensure_ascii=False)
        for name in FIXED_FIELDS:
            if isinstance(data.get(name), str):
                data[name] = fix_value(data[name], path, number, changes, name)
        if isinstance(data.get("body"), str):
            data["body"] = fix_body_paragraphs(data["body"].split("\n"), path, number, changes)
        after = json.dumps(data, ensure_ascii=False)
        out.append(line if after == before else json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(out)


def fix_body_paragraphs(paragraphs: list[str], path: str, number: int, changes: list[Change]) -> str:
    joined: list[str] = []
    taken = 0
    for start, end in wrapped_runs(paragraphs):
        joined.extend(paragraphs[taken:start])
        joined.append(text.join_wrapped(paragraphs[start:end]))
        changes.append(Change(path, number, "C101", f"joined {end - start} hard-wrapped paragraphs"))
        taken = end
    joined.extend(paragraphs[taken:])
    return "\n".join(fix_value(p, path, number, changes, "body") for p in joined)


def fix_paths(paths: Iterable[str | os.PathLike[str]], check: bool = False) -> FixReport:
    """Apply (or with `check`, only list) the safe fixes to every article file under the paths."""
    report = FixReport()
    for name in iter_article_files(paths):
        try:
            raw = Path(name).read_bytes()
        except OSError:
            report.skipped.append(name)
            continue
        content, problem = decode(name, raw)
        if content is None or problem:
            report.skipped.append(name)
            continue
        changes: list[Change] = []
        try:
            fixed = (
                fix_jsonl(name, content, changes)
                if name.endswith(".jsonl")
                else fix_markdown(name, content, changes)
            )
        except ValueError:
            report.skipped.append(name)
            continue
        if changes and fixed != content:
            report.changes.extend(changes)
            report.files_changed.append(name)
            if not check:
                replace_file(name, fixed)
    return report
