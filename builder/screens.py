"""Screens over a batch of bodies at once: which content rules could report something in which body.

A body of a clean record is some 1,600 characters that no rule has anything to say about, and
running each rule's Python over it costs far more than parsing it. Here the bodies of a batch
are encoded once as code points, every code point is classified by one table lookup, and the
few interesting positions (spaces, newlines, brackets, half-width marks, ...) decide, for each
body and each rule, whether the rule must run. Like a rule's own screen (`rules.rule`), a flag
may be raised too often, never too rarely: the test suite compares flagged and unflagged runs.

The character classes come from `builder.text` and `builder.bylines`, the definitions the rules
themselves use.

The numpy code here is the definition. `builder._scan` (builder/_scan.c, built by `pip install`
where there is a C compiler) computes the same flags and sketches in one pass over each text,
reading the code points where Python keeps them, and runs by default when it is built; the test
suite holds it to the numpy code, and NEWSSET_SCREENS=numpy asks for numpy.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from builder import bylines, neardup, text

try:  # the same screens in C, when the package was built with it (setup.py)
    from builder import _scan
except ImportError:  # pragma: no cover - a build without a compiler
    _scan = None

# The rules whose body part is screened here (`rules.check` takes the flags).
BATCHED = ("C101", "C103", "C104", "C201", "C202", "C203", "C204", "C209", "C105", "C205")

CJK = 1 << 0
PUNCT = 1 << 1  # full-width punctuation (text.CJK_PUNCT)
SPACE = 1 << 2
LATIN = 1 << 3  # a character of a Latin or digit token
HALF = 1 << 4  # a half-width mark
BRACKET = 1 << 5
BAD = 1 << 6  # U+FFFD, control characters, zero-width marks
MARKER = 1 << 7  # ■ and the other byline markers
NFC = 1 << 8  # a character that a string in NFC may not hold as it is, or may have to compose
NEWLINE = 1 << 9
STOP = 1 << 10
CLOSER = 1 << 11
ANCHOR = 1 << 12  # where a shingle of the near-duplicate sketch starts (neardup.SAMPLE)
WHITE = 1 << 13  # whitespace, as str.isspace and str.split have it
SPARSE = SPACE | HALF | BRACKET | BAD | MARKER | NFC | NEWLINE | ANCHOR | WHITE
BMP = 0x10000
CODE_POINTS = 0x110000


@lru_cache(maxsize=1)
def sparse_table() -> np.ndarray:
    """True for the code points whose positions the screens look at."""
    return (table() & SPARSE) != 0


@lru_cache(maxsize=1)
def table() -> np.ndarray:
    """The class bits of every code point, built in a few tens of milliseconds. Beyond the Basic
    Multilingual Plane every character is marked NFC: astral text is rare, the rules look at it."""
    every = characters(0, BMP)
    out = np.zeros(CODE_POINTS, dtype=np.uint16)

    def mark(bit: int, chars: str) -> None:
        out[np.array([ord(c) for c in chars], dtype=np.int64)] |= bit

    def mark_matches(bit: int, pattern: str, start: int = 0) -> None:
        # a character pattern's runs of matches, a slice each: far fewer than its characters
        found = characters(start, BMP if start == 0 else CODE_POINTS)
        for run in re.finditer(f"(?:{pattern})+", found):
            out[start + run.start() : start + run.end()] |= bit

    mark_matches(CJK, text.CJK_CHAR)
    mark(PUNCT, text.CJK_PUNCT)
    mark(SPACE, text.SPACES)
    mark_matches(LATIN, text._LATIN_CHAR_RE.pattern)
    mark(HALF, text.HALF_MARKS)
    mark(BRACKET, "".join(text.BRACKET_PAIRS) + "".join(text.BRACKET_PAIRS.values()))
    mark_matches(BAD, text._BAD_CHAR_RE.pattern)
    mark(MARKER, bylines.BYLINE_MARKERS)
    mark(NEWLINE, "\n")
    mark(STOP, text.STOPS)
    mark(CLOSER, text.CLOSERS)
    mark_matches(WHITE, r"\s")  # str.isspace: the same Unicode property for str patterns
    out[not_nfc_safe(every)] |= NFC
    out[BMP:] |= NFC
    mark_matches(CJK, text.CJK_CHAR, start=BMP)
    out[:: neardup.SAMPLE] |= ANCHOR
    return out


def characters(start: int, stop: int) -> str:
    """The characters of a range of code points, as one string (surrogates included)."""
    codes = np.arange(start, stop, dtype=np.uint32).tobytes()
    return codes.decode("utf-32-le", "surrogatepass")


def not_nfc_safe(every: str) -> np.ndarray:
    """Code points (BMP) that a string in NFC may not hold as they are, or that may compose
    with the character before them: those with a combining class or a canonical decomposition
    (precomposed letters too, which are fine, but rare in Chinese text), the second parts of
    canonical decompositions, and the Hangul jamo (composed by algorithm)."""
    found: set[int] = set(range(0x1100, 0x1200)) | set(range(0xD7B0, 0xD800))
    for cp, decomposition in enumerate(map(unicodedata.decomposition, every)):
        if decomposition and not decomposition.startswith("<"):
            found.add(cp)
            found.update(int(part, 16) for part in decomposition.split()[1:])
    found.update(cp for cp, ccc in enumerate(map(unicodedata.combining, every)) if ccc)
    return np.array(sorted(c for c in found if c < BMP), dtype=np.int64)


OPENS = 1 << 7  # in `pairs()`: the pair's number, and this bit for its opening mark
# The class bits in the order builder/_scan.c reads them.
SCAN_BITS = (CJK, PUNCT, SPACE, LATIN, HALF, BRACKET, BAD, MARKER, NFC, NEWLINE, STOP, CLOSER, OPENS, WHITE)


@lru_cache(maxsize=1)
def pairs() -> np.ndarray:
    """For each BMP code point: 0, or the number (from 1) of the bracket pair it belongs to,
    with OPENS set for an opening mark."""
    out = np.zeros(BMP, dtype=np.uint8)
    for number, (opening, closing) in enumerate(text.BRACKET_PAIRS.items(), start=1):
        out[ord(opening)] = number | OPENS
        out[ord(closing)] = number
    return out


class Batch:
    """The bodies of a batch as one array of code points, a newline between two bodies, with the
    class bits of each code point and the body each position belongs to."""

    def __init__(self, bodies: Sequence[str]) -> None:
        self.cp, self.starts, self.ends = neardup.code_points(bodies)  # a body ends where a line ends
        self.count = len(bodies)
        self.sparse = np.flatnonzero(np.take(sparse_table(), self.cp))  # the one pass over every character
        self.sparse_classes = np.take(table(), np.take(self.cp, self.sparse))

    def owner(self, positions: np.ndarray) -> np.ndarray:
        """The body each position belongs to (a separator belongs to the body it ends)."""
        return np.searchsorted(self.starts, positions, side="right") - 1

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Class bits at positions, 0 outside the text (as at a line's end)."""
        inside = (positions >= 0) & (positions < len(self.cp))
        out = np.zeros(len(positions), dtype=np.uint16)
        out[inside] = table()[self.cp[positions[inside]]]
        return out

    def flagged(self, positions: np.ndarray) -> np.ndarray:
        """A boolean per body: does it own one of the positions?"""
        out = np.zeros(self.count, dtype=bool)
        if len(positions):
            out[self.owner(positions)] = True
        return out

    def where(self, bit: int) -> np.ndarray:
        return self.sparse[(self.sparse_classes & bit) != 0]

    def sketches(self) -> np.ndarray:
        """The near-duplicate sketches of the bodies (neardup.sketches), from the same pass."""
        return neardup.sketch_rows(self.cp, self.starts, self.ends, self.where(ANCHOR))


def compiled() -> Any:
    """The C module, for the functions that run it; an error that says why where it is missing."""
    if _scan is None:
        raise RuntimeError("builder._scan is not built (pip install -e . builds it where gcc is)")
    return _scan


def native() -> bool:
    """Do the screens run in C (`builder._scan`)? NEWSSET_SCREENS=numpy asks for numpy."""
    return _scan is not None and os.environ.get("NEWSSET_SCREENS", "") != "numpy"


def in_c(engine: str | None) -> bool:
    """Does a screen asked for with `engine` ("c", "numpy", or None for the default) run in C?"""
    return engine == "c" or (engine is None and native())


class Screened(NamedTuple):
    """What `screen` found: for each text, the rules raised, and with `sketch` its near-duplicate
    sketch (`neardup.sketch_rows`)."""

    flags: list[frozenset[str]]
    sketches: np.ndarray | None = None


def screen(
    texts: list[str], names: Sequence[str], sketch: bool = False, engine: str | None = None
) -> Screened:
    """For each text, the rules of `names` (some of BATCHED) whose screens are raised, and with
    `sketch` the texts' near-duplicate sketches. `engine` ("c" or "numpy") picks the
    implementation; by default C where it is built. Both give the same answer."""
    if not texts:
        return Screened([], np.empty((0, neardup.BINS), np.uint32) if sketch else None)
    if in_c(engine):
        return scanned(texts, names, sketch)
    batch = Batch(texts)
    return Screened(as_sets(raised(batch, texts, names), len(texts)), batch.sketches() if sketch else None)


def scanned(
    texts: list[Any], names: Sequence[str], sketch: bool, fields: tuple[str, ...] | None = None
) -> Screened:
    """`screen` in C: one pass over each text, then the dateline check of C209 in Python.
    With `fields`, `texts` are records and each is screened as `field_text` of it."""
    masks = np.zeros(len(texts), dtype=np.uint16)
    candidates: list[tuple[int, int]] = []
    rows = np.empty((len(texts), neardup.BINS), dtype=np.uint32) if sketch else None
    wanted = sum(1 << BATCHED.index(name) for name in names)
    compiled().scan(
        texts, table(), pairs(), SCAN_BITS, wanted, bylines.MAX_BYLINE, text.SHORT_BODY, masks,
        candidates, rows, neardup.BINS, neardup.SHINGLE, neardup.SAMPLE, neardup._WEIGHTS, fields,
    )  # fmt: skip
    stray = np.uint16(1 << BATCHED.index("C209"))
    for index, offset in candidates:
        if not masks[index] & stray and not after_dateline(texts[index], offset):
            masks[index] |= stray
    return Screened([rule_set(mask) for mask in masks.tolist()], rows)


def c_others(records: list[Any], answers: np.ndarray, titles: tuple[str, ...], long_headline: int) -> None:
    """`rules.others_may_report` in C (`_scan.others`): 1 or 0 per record in `answers`, -1 where
    the byline is not one `bylines.parse_plain` reads."""
    compiled().others(
        records, answers, titles, long_headline, text.SPACES, bylines.ROLE_WORDS, bylines._ROLE_STARTS,
        bylines._MAX_NAME,
    )  # fmt: skip


@lru_cache(maxsize=256)
def rule_set(mask: int) -> frozenset[str]:
    """The rules of BATCHED whose bits are set in a mask of `_scan.scan`."""
    return frozenset(name for i, name in enumerate(BATCHED) if mask >> i & 1) if mask else NONE


def texts_of(bodies: Sequence[str | None]) -> list[str]:
    """Bodies as text: one that is not a string (a schema error) has nothing to look at."""
    return [b if isinstance(b, str) else "" for b in bodies]


def body_flags(bodies: Sequence[str | None], engine: str | None = None) -> list[frozenset[str]]:
    """For each body, the rules of BATCHED whose body part must run (`engine`: see `screen`)."""
    return screen(texts_of(bodies), BATCHED, engine=engine).flags


# The rules that look at the short text fields too, in the way they look at the body.
FIELD_RULES = ("C104", "C201", "C202", "C203", "C204")


def field_flags(
    records: Sequence[dict[str, Any]], names: tuple[str, ...], engine: str | None = None
) -> list[frozenset[str]]:
    """For each record, the rules of FIELD_RULES that must run for its text fields `names`,
    screened as one text (`field_text`). Fields hold no newline; if one does, the flags only
    rise more often."""
    if in_c(engine):
        return scanned(list(records), FIELD_RULES, False, names).flags if records else []
    return screen([field_text(data, names) for data in records], FIELD_RULES, engine="numpy").flags


def field_text(data: dict[str, Any], names: tuple[str, ...]) -> str:
    """A record's text fields `names` that are strings, one per line."""
    values = [data.get(name) for name in names]
    return "\n".join([value for value in values if isinstance(value, str)])


def raised(batch: Batch, texts: Sequence[str], names: Sequence[str]) -> dict[str, np.ndarray]:
    """A boolean per text for each rule of `names`."""
    screen = {
        "C104": lambda: batch.flagged(batch.where(BAD)),
        "C204": lambda: batch.flagged(batch.where(NFC)),
        "C202": lambda: halfwidth_marks(batch),
        "C201": lambda: justified_spaces(batch) | spaced_runs(batch),
        "C209": lambda: stray_spaces(batch, texts) | spaced_runs(batch),
        "C203": lambda: unbalanced_brackets(batch),
        "C101": lambda: hard_wraps(batch),
        "C103": lambda: bylines_in_body(batch),
        "C105": lambda: short_bodies(batch),
        "C205": lambda: short_bodies(batch),
    }
    return {name: screen[name]() for name in names}


def as_sets(found: dict[str, np.ndarray], count: int) -> list[frozenset[str]]:
    """Per text, the set of rules raised (one shared empty set for the many clean texts)."""
    out = [NONE] * count
    if not count or not found:
        return out
    names = list(found)
    matrix = np.stack([found[n] for n in names], axis=1)
    for index in np.flatnonzero(matrix.any(axis=1)).tolist():
        out[index] = frozenset(names[j] for j in np.flatnonzero(matrix[index]))
    return out


NONE: frozenset[str] = frozenset()


def spaced_runs(batch: Batch) -> np.ndarray:
    """Bodies with two spaces in a row: runs are left to the rules, which look at whole runs."""
    spaces = batch.where(SPACE)
    return batch.flagged(spaces[1:][np.diff(spaces) == 1])


def halfwidth_marks(batch: Batch) -> np.ndarray:
    """C202: a half-width mark beside a CJK character or full-width punctuation."""
    marks = batch.where(HALF)
    beside = (batch.at(marks - 1) | batch.at(marks + 1)) & (CJK | PUNCT)
    return batch.flagged(marks[beside != 0])


def justified_spaces(batch: Batch) -> np.ndarray:
    """C201: a space between two CJK characters, one of them standing alone."""
    spaces = batch.where(SPACE)
    between = ((batch.at(spaces - 1) & CJK) != 0) & ((batch.at(spaces + 1) & CJK) != 0)
    single = ((batch.at(spaces - 2) & CJK) == 0) | ((batch.at(spaces + 2) & CJK) == 0)
    return batch.flagged(spaces[between & single])


def stray_spaces(batch: Batch, texts: Sequence[str]) -> np.ndarray:
    """C209: a space touching full-width punctuation, or between CJK text and a Latin or digit
    token, unless it is the space after a paragraph's dateline (`本报讯 11月7日`)."""
    spaces = batch.where(SPACE)
    before, after = batch.at(spaces - 1), batch.at(spaces + 1)
    touching = ((before | after) & PUNCT) != 0
    cjk_latin = ((before & CJK) != 0) & ((after & LATIN) != 0)
    latin_cjk = ((before & LATIN) != 0) & ((after & CJK) != 0)
    candidates = spaces[touching | cjk_latin | latin_cjk]
    out = np.zeros(batch.count, dtype=bool)
    owners = batch.owner(candidates)
    for body, position in zip(owners.tolist(), candidates.tolist(), strict=True):
        if not out[body] and not after_dateline(texts[body], position - int(batch.starts[body])):
            out[body] = True
    return out


def after_dateline(body: str, offset: int) -> bool:
    """Is the space at `offset` the one after its paragraph's dateline (which C209 leaves)?"""
    start = body.rfind("\n", 0, offset) + 1
    end = body.find("\n", offset)
    paragraph = body[start : end if end >= 0 else len(body)]
    prefix = bylines.dateline(paragraph)
    return prefix is not None and start + paragraph.find(prefix) + len(prefix) == offset


def unbalanced_brackets(batch: Batch) -> np.ndarray:
    """C203: a line whose brackets are not simply opened and closed in turn (`“…”（…）`).

    Nested or unbalanced marks raise the flag; the rule then decides.
    """
    chosen = (batch.sparse_classes & (BRACKET | NEWLINE)) != 0
    marks = np.concatenate([batch.sparse[chosen], [len(batch.cp)]])  # the last line ends too
    is_newline = np.concatenate([(batch.sparse_classes[chosen] & NEWLINE) != 0, [True]])
    index = np.arange(len(marks))
    last_newline = np.maximum.accumulate(np.where(is_newline, index, -1))
    before = np.concatenate([[-1], last_newline[:-1]])  # the newline before each entry
    place = index - before - 1  # a mark's place in its line
    kind = np.concatenate([pairs()[np.minimum(batch.cp[marks[:-1]], BMP - 1)], [0]])
    pair = kind & ~np.uint8(OPENS)
    opener = (kind & OPENS) != 0
    previous_pair = np.concatenate([[0], pair[:-1]])
    even = place % 2 == 0
    wrong = ~is_newline & ((even & ~opener) | (~even & (opener | (pair != previous_pair))))
    odd_line = is_newline & (place % 2 == 1)  # a line that ends after an opener
    return batch.flagged(marks[wrong | odd_line])


def hard_wraps(batch: Batch) -> np.ndarray:
    """C101 (JSONL): two or more lines of a body, its last line aside, that do not end with a
    stop (and a closing mark after it)."""
    newlines = batch.where(NEWLINE)
    last = np.clip(np.searchsorted(batch.ends, newlines), 0, batch.count - 1)
    newlines = newlines[batch.ends[last] != newlines]  # the lines a body holds, not the last
    one, two = batch.at(newlines - 1), batch.at(newlines - 2)
    ends = ((one & STOP) != 0) | (((one & CLOSER) != 0) & ((two & STOP) != 0))
    counts = np.bincount(batch.owner(newlines[~ends]), minlength=batch.count)
    return counts >= 2


def short_bodies(batch: Batch) -> np.ndarray:
    """C205 (and C105, as an empty body is short): fewer than SHORT_BODY characters that are not
    whitespace among a body's first SHORT_BODY * 4 (`rules.short_text`)."""
    ends = np.minimum(batch.ends, batch.starts + 4 * text.SHORT_BODY)
    white = batch.where(WHITE)
    blank = np.searchsorted(white, ends) - np.searchsorted(white, batch.starts)
    return ends - batch.starts - blank < text.SHORT_BODY


def bylines_in_body(batch: Batch) -> np.ndarray:
    """C103: a byline marker, or a line short enough to be a byline."""
    found = batch.flagged(batch.where(MARKER))
    bounds = np.concatenate([[-1], batch.where(NEWLINE), [len(batch.cp)]])
    lengths = np.diff(bounds) - 1
    return found | batch.flagged(bounds[:-1][lengths <= bylines.MAX_BYLINE] + 1)
