"""Blocks: classified lines grouped into bodies, byline groups and title elements.

A body starts at a dateline and runs over blank lines (column breaks) until the next dateline,
byline, bold title or a line wider than its column; what follows its last finished paragraph
goes back to the page as title text. Inside a body, a paragraph ends where a line ends a
sentence and either that line stops short of the column or the next one is indented.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

from builder import bylines, text
from builder.extract.lines import BLANK, BYLINE, DATELINE, DOUBLED, HEADER, JUMP, TEXT, Line

# Layout thresholds, in em (the width of one CJK character).
WIDER_THAN_COLUMN = 2.5  # a line this much wider than the body's column is not body text
NARROW_SHARE = 0.6  # a line narrower than this share of the column is a narrow side column
SHORT_AT_BLANK = 0.5  # a sentence end this short of the column, then a blank line: paragraph end
INDENT_AT_BLANK = 1.0  # a line this much short of the column after a blank: paragraph start
INDENT = 2.0  # a paragraph's first line is indented by two characters
MAX_INDENT = 3.5  # a line shorter than the column by more than this is a paragraph's end, not start
SHORT_NO_BLANK = 1.5  # the same without a blank line between: stronger evidence needed
INDENT_NO_BLANK = 1.5
BOTH_NO_BLANK = 2.0  # or shortness and indent together
SIDE_COLUMN_LINES = 3  # narrow lines in a row that make a side column
UNDATED_MIN_LINES = 4  # lines of a body without a dateline, at the least
UNDATED_SPREAD = 1.5  # how much narrower than the column its full lines may be
NARROWEST_COLUMN = 6.0
SKIPPED = (HEADER, JUMP)


@dataclass
class Body:
    """The lines of one article's text, and where its paragraphs break."""

    lines: list[Line]
    skipped: list[Line] = field(default_factory=list)
    paragraphs: list[list[Line]] = field(default_factory=list)
    column: float = 0.0
    doubtful_breaks: list[int] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.lines[0].number

    @property
    def end(self) -> int:
        return self.lines[-1].number

    @property
    def dated(self) -> bool:
        return self.lines[0].kind == DATELINE


@dataclass
class BylineGroup:
    """Consecutive byline lines: one credit printed over one or more lines."""

    lines: list[Line]

    @property
    def text(self) -> str:
        return bylines.canonical_lines([line.text for line in self.lines])


@dataclass
class Element:
    """One title-like unit: a line, a wrapped run of lines, or a doubled (bold) couplet."""

    lines: list[Line]
    doubled: bool
    blank_before: bool

    @property
    def raw(self) -> str:
        return " ".join(line.stripped for line in self.lines)


@dataclass
class Skipped:
    """A line that belongs to no article: page furniture, or text that fits nowhere."""

    line: Line
    reason: str


Piece = Body | BylineGroup | Element | Skipped


# --- column geometry -----------------------------------------------------------------------


def column_width(lines: list[Line]) -> float:
    """The width of a body's column: the upper quartile of its line widths.

    Most lines of a column are full; first lines are indented and last lines short, so the
    upper quartile is the full width even for short bodies. Narrow side-column lines are left
    out so that they do not pull the estimate down.
    """
    widths = sorted(line.width for line in lines if line.stripped)
    if not widths:
        return 0.0
    widest = widths[-1]
    main = [w for w in widths if w >= NARROW_SHARE * widest] or widths
    if len(main) == 1:
        return main[0]
    return statistics.quantiles(main, n=4, method="inclusive")[2]


def is_narrow(line: Line, column: float) -> bool:
    return line.width < NARROW_SHARE * column


def local_column(lines: list[Line], index: int, column: float) -> float:
    """The column a line sits in: the body's, or the narrow side column it is part of.

    A side column is three or more narrow lines in a row (`工商局、省` / `质监局、省` / …); a
    single short line is just the end of a paragraph.
    """
    if not is_narrow(lines[index], column):
        return column
    lo = hi = index
    while lo > 0 and is_narrow(lines[lo - 1], column):
        lo -= 1
    while hi + 1 < len(lines) and is_narrow(lines[hi + 1], column):
        hi += 1
    if hi - lo + 1 < SIDE_COLUMN_LINES:
        return column
    return max(line.width for line in lines[lo : hi + 1])


def side_columns(body: Body) -> list[tuple[int, int]]:
    """(first, last) line numbers of the narrow side columns joined into a body."""
    runs: list[tuple[int, int]] = []
    run: list[Line] = []
    for line in [*body.lines, None]:
        if line is not None and is_narrow(line, body.column):
            run.append(line)
            continue
        if len(run) >= SIDE_COLUMN_LINES:
            runs.append((run[0].number, run[-1].number))
        run = []
    return runs


# --- paragraphs ----------------------------------------------------------------------------


def break_evidence(
    line: Line, following: Line, column: float, blank_between: bool, first: bool
) -> tuple[bool, bool]:
    """(paragraph ends after `line`, the decision was close) for two consecutive body lines.

    A paragraph can only end on a sentence end. The evidence is how far `line` stops short of
    the column (less its indent if it starts a paragraph itself) and how far `following` is
    indented; a much shorter line, or one that ends a sentence itself with no blank line before
    it, may be the end of the same paragraph, so its shortness says nothing. With a
    blank line between (a column break or a paragraph end) a little evidence is enough; without
    one it must be clear.
    """
    if not text.ends_sentence(line.stripped):
        return False, False
    short = column - (INDENT if first else 0.0) - line.width
    indent = column - following.width
    if indent > MAX_INDENT or (not blank_between and text.ends_paragraph(following.stripped)):
        indent = 0.0  # a short line that ends a sentence may be the end of this same paragraph
    if blank_between:
        margins = [short - SHORT_AT_BLANK, indent - INDENT_AT_BLANK]
    else:
        margins = [short - SHORT_NO_BLANK, indent - INDENT_NO_BLANK, short + indent - BOTH_NO_BLANK]
    margin = max(margins)
    return margin >= 0, abs(margin) < 0.5


def split_paragraphs(body: Body, all_lines: list[Line]) -> None:
    """Fill in the body's paragraphs and note the breaks that were close calls."""
    lines = body.lines
    body.column = column_width(lines)
    paragraphs: list[list[Line]] = [[lines[0]]]
    for i in range(len(lines) - 1):
        line, following = lines[i], lines[i + 1]
        column = local_column(lines, i, body.column)
        blank = any(all_lines[n - 1].kind == BLANK for n in range(line.number + 1, following.number))
        first = len(paragraphs[-1]) == 1
        ends, close = break_evidence(line, following, column, blank, first)
        if close:
            body.doubtful_breaks.append(line.number)
        if ends:
            paragraphs.append([following])
        else:
            paragraphs[-1].append(following)
    body.paragraphs = paragraphs


# --- bodies --------------------------------------------------------------------------------


def running_column(lines: list[Line]) -> float:
    """The column width judged from the first lines of a body (its first line is indented)."""
    if len(lines) == 1:
        return lines[0].width + 2
    return column_width(lines)


def continues_body(line: Line, body: list[Line]) -> bool:
    """Whether a line can be the next line of a body that has `body` so far."""
    if line.kind == DATELINE:
        return False
    if line.kind == DOUBLED:
        # A bold title follows a finished body; in mid-sentence `XYXY` is just text.
        return not text.ends_sentence(body[-1].stripped) and line.width <= running_column(body) + 1
    if line.kind == BYLINE:
        # An unmarked byline-like line in mid-sentence (`文 化 旅 游` in a narrow column) is text.
        return not line.has_marker and not text.ends_sentence(body[-1].stripped)
    return line.width <= running_column(body) + WIDER_THAN_COLUMN


def take_body(lines: list[Line], start: int) -> tuple[Body, int]:
    """The body starting at index `start`; returns it and the index where the page resumes."""
    taken = [lines[start]]
    skipped: list[Line] = []
    j = start + 1
    while j < len(lines):
        line = lines[j]
        if line.kind == BLANK:
            j += 1
            continue
        if line.kind in SKIPPED:
            skipped.append(line)
            j += 1
            continue
        if not continues_body(line, taken):
            break
        taken.append(line)
        j += 1
    last = last_paragraph_end(taken)
    if last is not None and last < len(taken) - 1:
        resume_after = taken[last].number
        taken = taken[: last + 1]
        skipped = [s for s in skipped if s.number < resume_after]
        j = next(i for i, line in enumerate(lines) if line.number > resume_after)
    body = Body(taken, skipped)
    split_paragraphs(body, lines)
    return body, j


def last_paragraph_end(lines: list[Line]) -> int | None:
    """Index of the last line that finishes a paragraph (`。` and the like, not a bare `”`)."""
    for i in range(len(lines) - 1, -1, -1):
        if text.ends_paragraph(lines[i].stripped):
            return i
    return None


def undated_body(lines: list[Line], start: int) -> tuple[Body, int] | None:
    """The body without a dateline that starts at a plain text line, if one does.

    Read from the line as if it were a dateline, the text must come out as a body set in a
    column: four lines or more, the first no narrower than an indent, every line inside a
    paragraph full, the last finishing a paragraph. Titles and captions do not.
    """
    body, resume = take_body(lines, start)
    column = body.column
    inner = [line for para in body.paragraphs for line in para[1:-1]]
    if (
        len(body.lines) >= UNDATED_MIN_LINES
        and column >= NARROWEST_COLUMN
        and column - INDENT - 1.5 <= body.lines[0].width <= column + 0.5
        and all(line.width >= column - UNDATED_SPREAD for line in inner)
        and text.ends_paragraph(body.lines[-1].stripped)
    ):
        return body, resume
    return None


# --- bylines and title elements ------------------------------------------------------------


def take_bylines(lines: list[Line], start: int) -> tuple[BylineGroup, int]:
    """A byline and the lines that continue it (`■记者` then `胡佳英` on the next line)."""
    group = [lines[start]]
    j = start + 1
    while j < len(lines):
        line = lines[j]
        if not continues_byline(group, line):
            break
        group.append(line)
        j += 1
    return BylineGroup(group), j


def continues_byline(group: list[Line], line: Line) -> bool:
    """An unmarked byline line (`通讯员 倪春军`), or the names a dangling role waits for."""
    if line.kind == BYLINE:
        return not line.has_marker
    return line.kind == TEXT and completes_byline(group, line)


def completes_byline(group: list[Line], line: Line) -> bool:
    """True when a byline ends in a role without a name and this line gives the names."""
    joined = " ".join(bylines.strip_marker(g.text) for g in group)
    parsed = bylines.parse(joined)
    if parsed is None or not parsed.empty_roles:
        return False
    completed = bylines.parse(f"{joined} {line.stripped}")
    return completed is not None and len(completed.empty_roles) < len(parsed.empty_roles)


def title_elements(run: list[Line], blank_before: bool) -> list[Element]:
    """Split a run of adjacent title lines into elements.

    Doubled lines form one bold couplet. Other lines join while they look hard-wrapped: no
    line wider than the first, every line before the last about as wide as the first.
    """
    elements: list[Element] = []
    for line in run:
        current = elements[-1] if elements else None
        if current is not None and joins_element(current, line):
            current.lines.append(line)
            continue
        elements.append(Element([line], line.kind == DOUBLED, blank_before if not elements else False))
    return elements


def joins_element(element: Element, line: Line) -> bool:
    doubled = line.kind == DOUBLED
    if doubled or element.doubled:
        return doubled and element.doubled
    first, last = element.lines[0], element.lines[-1]
    return (
        line.width <= first.width + 0.5
        and last.width >= first.width - 1.0
        and not text.ends_paragraph(last.stripped)
    )


# --- the page ------------------------------------------------------------------------------


def pieces(lines: list[Line]) -> Iterator[Piece]:
    """The page as bodies, byline groups, title elements and skipped lines, in page order."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.kind == BLANK:
            i += 1
            continue
        undated = undated_body(lines, i) if line.kind == TEXT else None
        if line.kind == DATELINE or undated:
            body, i = undated or take_body(lines, i)
            yield body
            yield from (Skipped(s, "jump marker" if s.kind == JUMP else "page header") for s in body.skipped)
        elif line.kind == BYLINE:
            group, i = take_bylines(lines, i)
            yield group
        elif line.kind in SKIPPED:
            yield Skipped(line, "jump marker" if line.kind == JUMP else "page header")
            i += 1
        else:
            j = i
            while j < len(lines) and lines[j].kind in (TEXT, DOUBLED):
                j += 1
            blank_before = i == 0 or lines[i - 1].kind == BLANK
            yield from title_elements(lines[i:j], blank_before)
            i = j
