"""Content rules for cleaned newspaper text: one small function per rule.

A rule takes one record with its source lines and yields diagnostics. Rules share their
definitions of "hard wrap", "byline", "justification space" with the extractor through
`builder.text` and `builder.bylines`, so what extract removes is exactly what validate flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from builder import bylines, catalog, screens, text
from builder.diagnostics import Diagnostic
from builder.sources import Paragraph, Source

TITLE_FIELDS = ("kicker", "headline", "subheadline")
TEXT_FIELDS = ("source", "section", *TITLE_FIELDS, "byline")
SHORT_BODY = text.SHORT_BODY
LONG_HEADLINE = 48

MARKER_RE = re.compile(f"[{bylines.BYLINE_MARKERS}]")

Rule = Callable[[Source], Iterator[Diagnostic]]
Screen = Callable[[Source], bool]


@dataclass(frozen=True)
class Entry:
    """A registered rule as `check` runs it: the list is walked in registration order."""

    rule_id: str
    func: Rule
    screen: Screen | None
    batched: bool  # screened a batch at a time (builder.screens) where flags are given


ENTRIES: list[Entry] = []  # every content rule, in the order they run


def rule(rule_id: str, screen: Screen | None = None) -> Callable[[Rule], Rule]:
    """Register a content rule under its stable id.

    A screen is a cheap test that is true whenever the rule could report something; the rule
    itself runs only when its screen passes. Screens may pass too often, never too rarely
    (the test suite compares screened and unscreened runs). The rules of `screens.BATCHED`
    are also screened a batch of records at a time, which `check` takes as `flags`.
    """

    def register(func: Rule) -> Rule:
        ENTRIES.append(Entry(rule_id, func, screen, rule_id in screens.BATCHED))
        return func

    return register


def diagnostic(
    src: Source,
    rule_id: str,
    message: str,
    line: int | None = None,
    col: int = 1,
    hint: str = "",
    pointer: str = "",
) -> Diagnostic:
    """A diagnostic about one record (its line defaults to the record's first line)."""
    return catalog.diagnostic(
        rule_id,
        src.path,
        line or src.line,
        message,
        col=col,
        hint=hint,
        pointer=pointer,
        record=src.record_id,
    )


def at_field(src: Source, rule_id: str, name: str, message: str, hint: str = "") -> Diagnostic:
    """A diagnostic about one field: its line, its column and its JSON pointer."""
    return diagnostic(
        src, rule_id, message, line=src.line_of(name), col=src.col_of(name), hint=hint, pointer=f"/{name}"
    )


def at_offset(src: Source, para: Paragraph, offset: int) -> tuple[int, int]:
    """Line and column of a character of a paragraph (.md keeps the paragraph's own lines)."""
    if src.format != "md":
        return para.line, src.col_of("body")
    before = para.text[:offset]
    line = para.line + before.count("\n")
    return line, offset - (before.rfind("\n") + 1) + 1


def in_paragraph(src: Source, rule_id: str, para: Paragraph, message: str, offset: int = 0) -> Diagnostic:
    """A diagnostic about a character of a paragraph of the body (`at_offset`), its start by default."""
    line, col = at_offset(src, para, offset)
    return diagnostic(src, rule_id, message, line=line, col=col, pointer="/body")


def string_fields(src: Source, names: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for name in names:
        value = src.data.get(name)
        if isinstance(value, str):
            yield name, value


def body_of(src: Source) -> str | None:
    body = src.data.get("body")
    return body if isinstance(body, str) else None


def snippet(value: str, width: int = 24) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


# --- errors ------------------------------------------------------------------------------


def may_be_hard_wrapped(src: Source) -> bool:
    body = body_of(src)
    if body is None:
        return False
    lines = body.split("\n")
    if src.format == "md":
        return len(lines) > len(src.paragraphs)
    return sum(1 for line in lines[:-1] if not text.ends_paragraph(line)) >= 2


@rule("C101", screen=may_be_hard_wrapped)
def hard_wrap(src: Source) -> Iterator[Diagnostic]:
    """Lines of a paragraph still broken where the column ended."""
    if src.format == "md":
        for para in src.paragraphs:
            if "\n" in para.text:
                first = para.text.split("\n", 1)[0]
                yield diagnostic(
                    src,
                    "C101",
                    f"paragraph is hard-wrapped: '{snippet(first)}' continues on the next line",
                    line=para.line + 1,
                    pointer="/body",
                )
        return
    lines = [p.text for p in src.paragraphs]
    for start, end in wrapped_runs(lines):
        yield diagnostic(
            src,
            "C101",
            f"paragraphs {start + 1}–{end} look like one paragraph hard-wrapped "
            f"at the column width ('{snippet(lines[start])}')",
            pointer="/body",
            col=src.col_of("body"),
        )


def wrapped_runs(lines: list[str], min_lines: int = 3) -> Iterator[tuple[int, int]]:
    """Runs [start, end) of paragraphs that are really one hard-wrapped paragraph."""
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and not text.ends_paragraph(lines[end]) and lines[end].strip():
            end += 1
        run = lines[start : min(end + 1, len(lines))]
        if len(run) >= min_lines and text.is_wrapped_run(run):
            yield start, start + len(run)
        start = max(end + 1, start + 1)


@rule("C102")
def doubled_headline(src: Source) -> Iterator[Diagnostic]:
    """A bold title that the PDF printed twice: `XX` as `XXXX`."""
    for name, value in string_fields(src, TITLE_FIELDS):
        fixed = undouble_title(value)
        if fixed is not None:
            yield at_field(
                src,
                "C102",
                name,
                f"{name} is printed twice: '{snippet(value, 40)}'",
                hint=f"keep one copy: {fixed}",
            )


def undouble_title(value: str) -> str | None:
    """The title with each doubled part kept once, or None when nothing is doubled."""
    if " " not in value:
        return text.undouble(value)
    parts = value.split(" ")
    fixed = [text.undouble(part) or part for part in parts]
    whole = text.undouble(value)
    if whole is not None:
        return whole
    return " ".join(fixed) if fixed != parts else None


def may_hold_byline(src: Source) -> bool:
    body = body_of(src)
    if body is None:
        return False
    return any(m in body for m in bylines.BYLINE_MARKERS) or any(
        len(line) <= bylines.MAX_BYLINE for line in body.split("\n")
    )


@rule("C103", screen=may_hold_byline)
def byline_in_body(src: Source) -> Iterator[Diagnostic]:
    """A byline line or a ■ marker left inside the body."""
    for para in src.paragraphs:
        marker = MARKER_RE.search(para.text)
        if marker:
            message = f"byline marker '{marker.group()}' in the body"
            yield in_paragraph(src, "C103", para, message, marker.start())
        else:
            for line_text in para.text.split("\n"):
                if bylines.is_byline(line_text):
                    yield in_paragraph(src, "C103", para, f"byline '{line_text.strip()}' stands in the body")
                    break


@rule("C104", screen=lambda src: any_text_matches(src, text.may_have_bad_characters, TEXT_FIELDS))
def bad_characters(src: Source) -> Iterator[Diagnostic]:
    """U+FFFD from a failed conversion, control characters, zero-width marks."""
    for name, value in string_fields(src, TEXT_FIELDS):
        for _offset, ch in text.bad_characters(value):
            yield at_field(src, "C104", name, f"{name} contains {describe_char(ch)}")
            break
    for para in src.paragraphs:
        for offset, ch in text.bad_characters(para.text):
            yield in_paragraph(src, "C104", para, f"body contains {describe_char(ch)}", offset)


def describe_char(ch: str) -> str:
    return {"\ufffd": "U+FFFD REPLACEMENT CHARACTER (a character lost in conversion)"}.get(
        ch, f"the invisible character U+{ord(ch):04X}"
    )


@rule("C105")
def empty_body(src: Source) -> Iterator[Diagnostic]:
    body = body_of(src)
    if body is not None and not body.strip():
        yield diagnostic(src, "C105", "the body is empty", line=src.line_of("body"), pointer="/body")


@rule("C106")
def byline_without_name(src: Source) -> Iterator[Diagnostic]:
    value = src.data.get("byline")
    if not isinstance(value, str):
        return
    parsed = bylines.parse(value)
    if parsed is not None:
        for role in parsed.empty_roles:
            yield at_field(src, "C106", "byline", f"byline has the role '{role}' with no name after it")


# --- warnings ----------------------------------------------------------------------------


def any_text_matches(
    src: Source, test: Callable[[str], bool], names: tuple[str, ...] = ("section", *TITLE_FIELDS)
) -> bool:
    """A cheap screen: does the body or one of the fields contain what the rule looks for?"""
    return any(test(value) for _name, value in string_fields(src, (*names, "body")))


def title_and_body_texts(src: Source) -> Iterator[tuple[str, str, int, Callable[[int], int]]]:
    """(field, text, line, column of an offset) for the title fields and every body line.

    Only a body line of an .md file starts at column 1; elsewhere the field's column is given.
    """
    for name, value in string_fields(src, ("section", *TITLE_FIELDS)):
        yield name, value, src.line_of(name), lambda _offset, name=name: src.col_of(name)
    for para in src.paragraphs:
        if src.format == "md":
            for i, line_text in enumerate(para.text.split("\n")):
                yield "body", line_text, para.line + i, lambda offset: offset + 1
        else:
            yield "body", para.text, para.line, lambda _offset: src.col_of("body")


@rule("C201", screen=lambda src: any_text_matches(src, text.has_justified_spaces))
def cjk_spacing(src: Source) -> Iterator[Diagnostic]:
    """Spaces a justified narrow column put between single CJK characters (`食 药 监 局`)."""
    for name, value, line, col in title_and_body_texts(src):
        for gap in text.justified_spaces(value):
            around = value[max(0, gap.start - 2) : gap.end + 3]
            yield diagnostic(
                src,
                "C201",
                f"{name} has spaces between CJK characters: '{around}'",
                line=line,
                col=col(gap.start + 1),
                pointer=f"/{name}",
            )
            break


@rule("C202", screen=lambda src: any_text_matches(src, text.has_halfwidth_mark))
def halfwidth_punctuation(src: Source) -> Iterator[Diagnostic]:
    """Half-width marks that PDF extraction left inside Chinese text (`,` for `，`)."""
    for name, value, line, col in title_and_body_texts(src):
        for offset, mark in text.halfwidth_punctuation(value):
            full = text.fullwidth_punctuation(value)[offset]
            yield diagnostic(
                src,
                "C202",
                f"{name} has half-width '{mark}' inside Chinese text",
                line=line,
                col=col(offset),
                hint=f"use the full-width '{full}' (newsset fix does it)",
                pointer=f"/{name}",
            )
            break


@rule("C203")
def unbalanced_brackets(src: Source) -> Iterator[Diagnostic]:
    """Quotes and brackets without their partner, in a title or within one paragraph."""
    for name, value in string_fields(src, TITLE_FIELDS):
        stray = text.unbalanced_brackets(value)
        if stray:
            yield at_field(src, "C203", name, f"{name} has unbalanced {' '.join(stray)}")
    body = body_of(src)
    if body is None:
        return
    if src.format == "md":  # a paragraph may still hold line breaks: look at each one
        found = [(i, text.unbalanced_brackets(p.text)) for i, p in enumerate(src.paragraphs)]
    else:
        found = list(text.unbalanced_by_paragraph(body))
    for index, stray in found:
        if not stray:
            continue
        para = src.paragraphs[index]
        message = f"paragraph has unbalanced {' '.join(stray)}: '{snippet(para.text)}'"
        yield in_paragraph(src, "C203", para, message)


@rule("C204")
def not_nfc(src: Source) -> Iterator[Diagnostic]:
    for name, value in string_fields(src, (*TEXT_FIELDS, "body")):
        if not text.is_nfc(value):
            yield at_field(src, "C204", name, f"{name} is not in Unicode NFC")


def may_be_short(src: Source) -> bool:
    body = body_of(src)
    return body is not None and short_text(body)


def short_text(body: str) -> bool:
    """C205's screen: the body's first characters hold fewer than SHORT_BODY that are not spaces
    (and C105's: an empty body is short). `screens.short_bodies` is the same in a batch."""
    return len("".join(body[: SHORT_BODY * 4].split())) < SHORT_BODY


@rule("C205", screen=may_be_short)
def short_body(src: Source) -> Iterator[Diagnostic]:
    body = body_of(src)
    if body is None or not body.strip():
        return
    size = len("".join(body.split()))
    if size < SHORT_BODY:
        yield diagnostic(
            src, "C205", f"the body has only {size} characters", line=src.line_of("body"), pointer="/body"
        )


@rule("C206")
def long_headline(src: Source) -> Iterator[Diagnostic]:
    value = src.data.get("headline")
    if isinstance(value, str) and len(value) > LONG_HEADLINE:
        yield at_field(
            src, "C206", "headline", f"the headline has {len(value)} characters (more than {LONG_HEADLINE})"
        )


@rule("C207")
def byline_authors_mismatch(src: Source) -> Iterator[Diagnostic]:
    byline, authors = src.data.get("byline"), src.data.get("authors")
    if not isinstance(byline, str) or not isinstance(authors, list):
        return
    derived = bylines.authors_of(byline)
    if derived and derived != authors:
        names = " ".join(a["name"] for a in derived)
        yield at_field(src, "C207", "authors", f"authors do not match the byline '{byline}' ({names})")


@rule("C208")
def unparsed_byline(src: Source) -> Iterator[Diagnostic]:
    byline = src.data.get("byline")
    if (
        isinstance(byline, str)
        and byline.strip()
        and "authors" not in src.data
        and bylines.parse(byline) is None
    ):
        yield at_field(src, "C208", "byline", f"cannot read roles and names in the byline '{byline}'")


def stray_gaps(paragraph: str) -> list[re.Match[str]]:
    """`text.stray_spaces` of a paragraph, but for the space after its dateline (`本报讯 11月`)."""
    prefix = bylines.dateline(paragraph)
    start = paragraph.find(prefix) + len(prefix) if prefix else -1
    return [gap for gap in text.stray_spaces(paragraph) if gap.start() != start]


def remove_stray_gaps(paragraph: str) -> str:
    for gap in reversed(stray_gaps(paragraph)):
        paragraph = paragraph[: gap.start()] + paragraph[gap.end() :]
    return paragraph


def may_have_stray_space(src: Source) -> bool:
    """The gaps of the whole body are those of its paragraphs: one scan instead of one each."""
    body = body_of(src)
    return body is not None and bool(stray_gaps(body))


@rule("C209", screen=may_have_stray_space)
def stray_space(src: Source) -> Iterator[Diagnostic]:
    """Spaces beside digits, Latin words or full-width punctuation: `11月 6日`, `还对 2019`."""
    for para in src.paragraphs:
        for line_no, line_text in enumerate(para.text.split("\n")):
            gaps = stray_gaps(line_text)
            if gaps:
                around = line_text[max(0, gaps[0].start() - 3) : gaps[0].end() + 3]
                line = para.line + line_no if src.format == "md" else para.line
                col = gaps[0].start() + 1 if src.format == "md" else src.col_of("body")
                yield diagnostic(
                    src, "C209", f"body has a stray space: '{around}'", line=line, col=col, pointer="/body"
                )
                break


def check(src: Source, screened: bool = True, flags: frozenset[str] | None = None) -> list[Diagnostic]:
    """Run every content rule on one record (with `screened`, only where its screen passes).

    `flags`, when given, are the rules that the batch screens raised for this record: those of
    `screens.BATCHED` (`screens.body_flags` and `screens.field_flags`), which run when raised,
    and the OTHERS when one of them may report (`others_flags`), which then run their own screens.
    Every rule is one or the other, so a rule not raised does not run.
    """
    if screened and flags is not None and not flags:
        return []  # the common clean record: no rule to run
    found: list[Diagnostic] = []
    for entry in ENTRIES:
        if screened:
            if flags is not None and entry.rule_id not in flags:
                continue
            if (flags is None or not entry.batched) and entry.screen is not None and not entry.screen(src):
                continue
        found.extend(entry.func(src))
    return found


# The rules that `others_may_report` screens, all at once: those not in screens.BATCHED.
OTHERS = ("C102", "C106", "C206", "C207", "C208")
ALL_OTHERS = frozenset(OTHERS)


def others_flags(records: list[dict[str, Any]]) -> list[frozenset[str]]:
    """For each record, OTHERS when `others_may_report`, else nothing: in C (builder._scan) for
    a byline that `bylines.parse_plain` reads, in Python for the rest."""
    if not records or not screens.native():
        return [ALL_OTHERS if others_may_report(data) else screens.NONE for data in records]
    answers = np.zeros(len(records), dtype=np.int8)
    screens.c_others(records, answers, TITLE_FIELDS, LONG_HEADLINE)
    return [
        ALL_OTHERS if (others_may_report(data) if answer < 0 else answer) else screens.NONE
        for data, answer in zip(records, answers.tolist(), strict=True)
    ]


def others_may_report(data: dict[str, Any]) -> bool:
    """Could one of the OTHERS rules report on this record? Their screens in one pass, for the
    record whose batch flags are all down; true whenever one of them would report."""
    for name in TITLE_FIELDS:  # C102
        value = data.get(name)
        if isinstance(value, str) and len(value) >= 6 and undouble_title(value) is not None:
            return True
    headline = data.get("headline")
    if isinstance(headline, str) and len(headline) > LONG_HEADLINE:  # C206
        return True
    byline = data.get("byline")
    if not isinstance(byline, str):
        return False
    parsed = bylines.parse(byline)
    if parsed is None:
        return bool(byline.strip()) and "authors" not in data  # C208
    authors = data.get("authors")
    return bool(parsed.empty_roles) or (  # C106, C207
        isinstance(authors, list) and bool(parsed.authors) and not bylines.same_authors(parsed, authors)
    )
