"""Line classes: what one line of raw page text is, judged from the line alone.

A line is blank, a page header (`第C01版:今日平湖报`), a jump marker (`（下转第四版）`), a byline
(`■记者 胡佳英`), the start of a body (a dateline such as `本报讯`), a bold title the PDF printed
twice, or plain text. Which article plain text belongs to is decided later, from its context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from builder import bylines, text

BLANK = "blank"
HEADER = "header"
JUMP = "jump"
BYLINE = "byline"
DATELINE = "dateline"
DOUBLED = "doubled"
TEXT = "text"

# Lines that are page furniture, never part of an article.
_HEADER_RES = (
    re.compile(r"^第\s*[A-Za-z]?\s*\d+\s*版"),  # 第C01版:今日平湖报
    re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(星期|周)[一二三四五六日天]"),
)
_HEADER_MAX = 60
_JUMP_RE = re.compile(
    r"^[（(【\[]?\s*(下转|上接|转自|接上|转第|接第|转下|续第)[^）)】\]]{0,10}[版页面]\s*[）)】\]]?$"
)


@dataclass(frozen=True)
class Line:
    """One input line: its 1-based number, its text as given, and its class."""

    number: int
    text: str
    kind: str

    @property
    def stripped(self) -> str:
        return self.text.strip(text.SPACES + "\t")

    @property
    def width(self) -> float:
        return print_width(self.stripped)

    @property
    def has_marker(self) -> bool:
        return self.stripped[:1] in bylines.BYLINE_MARKERS


def print_width(value: str) -> float:
    """Width of a line in em as the PDF text gives it: a CJK character 1, anything else 0.5.

    The e-paper's text layer squeezes punctuation to half width, so counting it as half
    makes the lines of one column come out nearly equal.
    """
    return sum(1.0 if text.is_cjk(c) else 0.5 for c in value)


def is_page_header(value: str) -> bool:
    """`第C01版:今日平湖报`, or a short line carrying the issue date and weekday."""
    return len(value) <= _HEADER_MAX and any(p.search(value) for p in _HEADER_RES)


def is_jump_marker(value: str) -> bool:
    """`（下转第四版）`, `(上接第1版)`: where an article continues on another page."""
    return bool(_JUMP_RE.match(value.replace(" ", "")))


def is_doubled(value: str) -> bool:
    """A bold title that the PDF text layer repeats: `持续深化…建设持续深化…建设`."""
    return text.undouble(value) is not None and text.has_cjk(value)


def kind_of(value: str) -> str:
    """The class of one line, judged from the line alone."""
    s = value.strip(text.SPACES + "\t")
    if not s:
        return BLANK
    if is_page_header(s):
        return HEADER
    if is_jump_marker(s):
        return JUMP
    if bylines.dateline(s):
        return DATELINE
    if bylines.is_byline(s):
        return BYLINE
    if is_doubled(s):
        return DOUBLED
    return TEXT


def classify(page: str) -> list[Line]:
    """Split page text into classified lines, numbered from 1 as an editor shows them."""
    raw = page.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    return [Line(n, value.rstrip("\r"), kind_of(value.rstrip("\r"))) for n, value in enumerate(raw, start=1)]
