"""Chinese text normalisation shared by extract, fix and the content rules.

One definition of each layout artefact lives here, so that the extractor that removes an
artefact and the rule that reports it can never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NamedTuple

# CJK ideographs (unified, extensions A-F, compatibility) and the CJK symbol and full-width
# punctuation blocks. Kana and Hangul count too: they never take spaces between them either.
_CJK_RANGES = (
    "\u2e80-\u2fdf"  # radicals
    "\u3005-\u3007\u3021-\u3029"  # 々〆〇 and Suzhou numerals
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003134f"  # extensions B-G
)
CJK_CHAR = f"[{_CJK_RANGES}]"
_CJK_RE = re.compile(CJK_CHAR)

# Full-width punctuation that may sit next to CJK text.
CJK_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】「」『』…—～·"
_CJK_OR_PUNCT_RE = re.compile(f"[{_CJK_RANGES}{CJK_PUNCT}]")

# Characters a sentence may end with, closing quotes and brackets included (`ends_sentence`).
SENTENCE_END = "。！？…；：”’）》」』】.!?"
# Closing marks, and the stops that must stand before them for a line to end a paragraph
# (`ends_paragraph`): a bare closing quote as in `打造“重要窗口”` goes on to the next line.
CLOSERS = "”’）》」』】\"')"
STOPS = "。！？…；：.!?;:"

# Half-width → full-width punctuation, for marks sitting inside Chinese text.
HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}

BRACKET_PAIRS = {"“": "”", "‘": "’", "（": "）", "《": "》", "【": "】", "「": "」", "『": "』", "〈": "〉"}

# Spaces a PDF puts between characters: ASCII space, ideographic space, no-break space.
SPACES = " \u3000\u00a0"
# C205: a body whose first SHORT_BODY * 4 characters hold fewer than SHORT_BODY that are not
# whitespace (str.isspace) is suspiciously short.
SHORT_BODY = 40
_SPACE_RUN_RE = re.compile(f"[{SPACES}]+")
# A character of a Latin or digit token printed inside Chinese text: 2019-2020, 5G, 3.5%, 10:30.
_LATIN_CHAR_RE = re.compile(r"[0-9A-Za-z.,:%/+\-]")

_BAD_CHAR_RE = re.compile("[\ufffd\x00-\x09\x0b-\x1f\x7f-\x9f\u200b\ufeff]")


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (or kana/hangul): characters joined without spaces."""
    return "\u4e00" <= ch <= "\u9fff" or bool(_CJK_RE.fullmatch(ch))  # the common block first


def is_cjk_or_punct(ch: str) -> bool:
    """True for CJK characters and full-width punctuation."""
    return bool(_CJK_OR_PUNCT_RE.fullmatch(ch))


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def display_width(text: str) -> int:
    """Width in half-width cells: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ends_sentence(line: str) -> bool:
    """True when a line ends with a stop or a closing mark: it may end a paragraph.

    Loose on purpose (`打造“重要窗口”` counts): the extractor weighs it with the line's width.
    """
    stripped = line.rstrip(SPACES)
    return bool(stripped) and stripped[-1] in SENTENCE_END


def ends_paragraph(line: str) -> bool:
    """Stricter than `ends_sentence`: a closing quote or bracket ends a paragraph only after a stop.

    `…发展。”` ends a paragraph; `我市召开“十四五”` (a wrapped title) does not. The extractor uses
    this to tell the last line of a body from a title printed below it.
    """
    stripped = line.rstrip(SPACES).rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in STOPS


def join_wrapped(lines: Sequence[str]) -> str:
    """Join hard-wrapped lines: no space between CJK text, one space between Latin words."""
    out = ""
    for raw in lines:
        line = raw.strip(SPACES + "\t")
        if not line:
            continue
        if out and not (is_cjk_or_punct(out[-1]) or is_cjk_or_punct(line[0])) and out[-1] != "-":
            out += " "
        out += line
    return out


class Gap(NamedTuple):
    """A justification gap: `text[start]` is the CJK character before the spaces, which end at `end`."""

    start: int
    end: int


def justified_spaces(text: str) -> Iterator[Gap]:
    """Yield spaces that a justified narrow column put between CJK characters.

    A space is a justification artefact when it stands between two CJK characters and one
    side of it is a single character (`食 药 监 局`, `王 强`). Spaces between words of two
    or more characters (`强交流 听意见 促发展`, `记者 李雨婷`) are the paper's own. Only the
    spaces are looked at (found with str.find), so ordinary text costs almost nothing.
    """
    size = len(text)
    for start in sorted(_space_positions(text)):
        if start and text[start - 1] in SPACES:
            continue  # inside a run of spaces: the run was looked at from its first space
        end = start + 1
        while end < size and text[end] in SPACES:
            end += 1
        if start == 0 or end >= size or not (is_cjk(text[start - 1]) and is_cjk(text[end])):
            continue
        left_single = start < 2 or not is_cjk(text[start - 2])
        right_single = end + 1 >= size or not is_cjk(text[end + 1])
        if left_single or right_single:
            yield Gap(start - 1, end)


def _space_positions(text: str) -> Iterator[int]:
    for space in SPACES:
        at = text.find(space)
        while at != -1:
            yield at
            at = text.find(space, at + 1)


def has_justified_spaces(text: str) -> bool:
    return next(justified_spaces(text), None) is not None


def remove_justified_spaces(text: str) -> str:
    """Drop the justification spaces found by `justified_spaces`."""
    spans = [(gap.start + 1, gap.end) for gap in justified_spaces(text)]
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return text


def stray_spaces(text: str) -> Iterator[re.Match[str]]:
    """Yield spaces a PDF put next to digits, Latin words or full-width punctuation in Chinese text.

    `11月 6日`, `还对 2019-2020年度`, `了 。`: a space touching full-width punctuation is never
    printed, and one between a CJK character and a Latin or digit token is an artefact when the
    token's other side touches Chinese text directly. A token spaced on both sides
    (`使用 iPhone 手机`) keeps its spaces.
    """
    for gap in _SPACE_RUN_RE.finditer(text):
        before = text[gap.start() - 1] if gap.start() else ""
        after = text[gap.end()] if gap.end() < len(text) else ""
        if not before or not after:
            continue
        if before in CJK_PUNCT or after in CJK_PUNCT:
            yield gap
        elif is_cjk(before) and _LATIN_CHAR_RE.match(after):
            end = gap.end()
            while end < len(text) and _LATIN_CHAR_RE.match(text[end]):
                end += 1
            if end < len(text) and is_cjk_or_punct(text[end]):
                yield gap
        elif is_cjk(after) and _LATIN_CHAR_RE.match(before):
            start = gap.start()
            while start > 0 and _LATIN_CHAR_RE.match(text[start - 1]):
                start -= 1
            if start > 0 and is_cjk_or_punct(text[start - 1]):
                yield gap


def remove_stray_spaces(text: str) -> str:
    """Drop the spaces found by `stray_spaces`."""
    spans = [(m.start(), m.end()) for m in stray_spaces(text)]
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return text


HALF_MARKS = ',;:?!()"'
_HALF_MARK_RE = re.compile(f"[{re.escape(HALF_MARKS)}]")


def halfwidth_punctuation(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, mark) for half-width punctuation standing inside Chinese text."""
    for m in _HALF_MARK_RE.finditer(text):
        i, ch = m.start(), m.group()
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if ch in ",:" and before.isdigit() and after.isdigit():
            continue  # 1,000 and 10:30
        if (before and is_cjk_or_punct(before)) or (after and is_cjk_or_punct(after)):
            yield i, ch


def fullwidth_punctuation(text: str) -> str:
    """Turn half-width punctuation inside Chinese text into its full-width form.

    A straight double quote becomes an opening or a closing quote by what it follows: after
    an unclosed “ it closes, otherwise it opens.
    """
    marks = dict(halfwidth_punctuation(text))
    if not marks:
        return text
    out: list[str] = []
    depth = 0
    for i, ch in enumerate(text):
        if ch == "“":
            depth += 1
        elif ch == "”":
            depth = max(0, depth - 1)
        if i in marks:
            if ch == '"':
                ch = "”" if depth > 0 else "“"
                depth = depth - 1 if depth > 0 else depth + 1
            else:
                ch = HALF_TO_FULL[ch]
        out.append(ch)
    return "".join(out)


def may_have_bad_characters(text: str) -> bool:
    """Cheap screen for `bad_characters`: every character it reports is unprintable or U+FFFD."""
    return "\ufffd" in text or not text.replace("\n", "").isprintable()


def has_halfwidth_mark(text: str) -> bool:
    """Cheap screen for `halfwidth_punctuation`: any half-width mark at all."""
    return any(mark in text for mark in HALF_MARKS)


def bad_characters(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, char) for U+FFFD, control characters and invisible marks."""
    for m in _BAD_CHAR_RE.finditer(text):
        yield m.start(), m.group()


_BRACKET_RE = re.compile("[" + "".join(BRACKET_PAIRS) + "".join(BRACKET_PAIRS.values()) + "]")


def unbalanced_brackets(text: str) -> list[str]:
    """Return the opening or closing marks left without their partner."""
    closing = {v: k for k, v in BRACKET_PAIRS.items()}
    stack: list[str] = []
    stray: list[str] = []
    for ch in _BRACKET_RE.findall(text):
        if ch in BRACKET_PAIRS:
            stack.append(ch)
        elif stack and stack[-1] == closing[ch]:
            stack.pop()
        elif closing[ch] in stack:
            while stack and stack[-1] != closing[ch]:
                stray.append(stack.pop())
            stack.pop()
        else:
            stray.append(ch)
    return stray + stack


_BRACKET_OR_NEWLINE_RE = re.compile(_BRACKET_RE.pattern[:-1] + "\n]")


def unbalanced_by_paragraph(text: str) -> Iterator[tuple[int, list[str]]]:
    """(paragraph index, stray marks) for each line of `text` with unbalanced marks, in one pass."""
    marks = _BRACKET_OR_NEWLINE_RE.findall(text)
    if not marks:
        return
    index = 0
    start = 0
    for end, mark in enumerate([*marks, "\n"]):
        if mark == "\n":
            if end > start and not _alternates(marks[start:end]):
                stray = unbalanced_brackets("".join(marks[start:end]))
                if stray:
                    yield index, stray
            start = end + 1
            index += 1


def _alternates(marks: list[str]) -> bool:
    """The common balanced case, cheaply: each mark is closed right after it is opened."""
    if len(marks) % 2:
        return False
    return all(BRACKET_PAIRS.get(a) == b for a, b in zip(marks[::2], marks[1::2], strict=True))


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def undouble(line: str) -> str | None:
    """Return the single title if a bold title was printed twice (`XX` → `X`), else None."""
    s = line.strip(SPACES)
    n = len(s)
    if n >= 6 and n % 2 == 0 and s[: n // 2] == s[n // 2 :]:
        return s[: n // 2]
    return None


def is_wrapped_run(lines: Sequence[str], tolerance: int = 2) -> bool:
    """True when lines look hard-wrapped at one column width.

    No line but the last ends the way a paragraph ends, and the lines between the first and the
    last have (nearly) the same display width; the first may be narrower, as a paragraph's first
    line is indented. This is the one definition of "hard wrap" used by extract and validate.
    """
    if len(lines) < 2:
        return False
    head = lines[:-1]
    if any(ends_paragraph(line) for line in head):
        return False
    widths = [display_width(line.strip(SPACES)) for line in head]
    inner = widths[1:] or widths
    return max(inner) - min(inner) <= tolerance and widths[0] <= max(inner) + tolerance and max(widths) <= 60


def clean_paragraph(text: str) -> str:
    """The safe fixes on one paragraph: NFC, no justification spaces, full-width punctuation."""
    return fullwidth_punctuation(remove_justified_spaces(nfc(text)))
