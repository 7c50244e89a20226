"""Titles: the title elements printed between two bodies, read as kicker, headline, subheadline.

Each article's title is a set `[kicker] headline [subheadline]`; the elements between two
bodies hold one set per article still without a title, and maybe a caption or logo. The split
with the best score wins. The scores encode what the page shows: a doubled (bold) element is a
headline; a kicker names who spoke where (`…上强调`) or is a row of short phrases
(`强交流 听意见 促发展`); a subheadline sits right under its headline and is longer than it; a
caption is short.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from builder import text
from builder.extract.blocks import Element

KICKER = "kicker"
HEADLINE = "headline"
SUBHEADLINE = "subheadline"
CAPTION = "caption"

# Set shapes, in the order they are tried (earlier wins a tie).
SHAPES: tuple[tuple[str, ...], ...] = (
    (HEADLINE,),
    (KICKER, HEADLINE),
    (HEADLINE, SUBHEADLINE),
    (KICKER, HEADLINE, SUBHEADLINE),
)
CAPTION_MAX = 10  # characters: longer text between articles is more likely a title
LONG_TITLE = 40
FIRST_CAPTION = 0.2
EARLY_CAPTION = 0.05
CLOSE_CALL = 1.0  # best split within this score of the next one: say so in the report

_KICKER_VERB_RE = re.compile(r"(强调|指出|表示|要求|提出|寄语|致辞|讲话)$")
_PHRASES_RE = re.compile(f"^{text.CJK_CHAR}{{2,}}([ \u3000]+{text.CJK_CHAR}{{2,}})+$")


@dataclass(frozen=True)
class TitleSet:
    """The elements of one article's title, by role."""

    kicker: Element | None
    headline: Element
    subheadline: Element | None

    def elements(self) -> list[tuple[str, Element]]:
        roles = ((KICKER, self.kicker), (HEADLINE, self.headline), (SUBHEADLINE, self.subheadline))
        return [(role, el) for role, el in roles if el is not None]


@dataclass(frozen=True)
class Reading:
    """The chosen split of a gap's elements: title sets in page order, captions, and how sure."""

    sets: tuple[TitleSet, ...]
    captions: tuple[Element, ...]
    close_call: bool


def joined(element: Element) -> str:
    """The element's text: a doubled couplet's lines kept once each and joined by one space,
    a wrapped title's lines joined without a break."""
    if element.doubled:
        return " ".join(text.undouble(line.stripped) or line.stripped for line in element.lines)
    return text.join_wrapped([line.stripped for line in element.lines])


def size(element: Element) -> int:
    """Characters of the title as it will be kept, spaces not counted."""
    return len("".join(joined(element).split()))


def has_kicker_cue(element: Element) -> bool:
    """`…会议上强调`, or one line of short phrases `强交流 听意见 促发展` (not a bold couplet)."""
    if element.doubled:
        return False
    value = joined(element)
    return bool(_KICKER_VERB_RE.search(value) or _PHRASES_RE.match(value))


def has_subheadline_cue(element: Element) -> bool:
    return joined(element).startswith(("—", "－", "——"))


def role_score(role: str, element: Element) -> float:
    """How well an element fits a role on its own."""
    kicker_cue = has_kicker_cue(element)
    if role == HEADLINE:
        score = 1.0 + (3.0 if element.doubled else 0.0) - (1.5 if kicker_cue else 0.0)
        score -= 2.0 if size(element) > LONG_TITLE else 0.0
        return score - (1.0 if text.ends_paragraph(element.raw) else 0.0)
    if element.doubled:
        return -4.0
    if role == KICKER:
        return -0.6 + (2.0 if kicker_cue else 0.0)
    if role == SUBHEADLINE:
        return -0.3 + (2.0 if has_subheadline_cue(element) else 0.0)
    # A caption or logo: the shorter, the likelier.
    short = size(element) <= CAPTION_MAX and not text.ends_sentence(element.raw)
    return (-0.05 * size(element) if short else -1.5) - (1.0 if kicker_cue else 0.0)


def set_score(shape: Sequence[str], elements: Sequence[Element]) -> float:
    """A title set's score: its elements in their roles, and how they sit together."""
    score = sum(role_score(role, el) for role, el in zip(shape, elements, strict=True))
    if SUBHEADLINE in shape:
        head, sub = elements[shape.index(HEADLINE)], elements[shape.index(SUBHEADLINE)]
        score += 1.0 if size(sub) > size(head) else -1.0
        score += -1.5 if sub.blank_before else 0.5
    return score


def read_gap(elements: Sequence[Element], wanted: int) -> Reading:
    """Split a gap's elements into at most `wanted` title sets and captions, best score first.

    A small dynamic programme over (position, sets used); every element ends up in exactly
    one set or as a caption.
    """
    n = len(elements)
    # best[i][k]: the best (score, choices) for elements[i:] with k sets still allowed.
    best: list[list[tuple[float, tuple[tuple[str, ...], ...]]]] = [
        [(0.0, ())] * (wanted + 1) for _ in range(n + 1)
    ]
    runner_up = float("-inf")
    for i in range(n - 1, -1, -1):
        for k in range(wanted + 1):
            # Right after a body stands its title more often than a caption, and between two
            # equally likely readings the caption is the later element.
            caption = role_score(CAPTION, elements[i]) - (FIRST_CAPTION if i == 0 else 0.0)
            caption -= EARLY_CAPTION * (n - 1 - i)
            options = [(caption + best[i + 1][k][0], ((CAPTION,), *best[i + 1][k][1]))]
            if k:
                for shape in SHAPES:
                    end = i + len(shape)
                    if end <= n:
                        tail = best[end][k - 1]
                        options.append((set_score(shape, elements[i:end]) + tail[0], (shape, *tail[1])))
            options.sort(key=lambda o: -o[0])
            best[i][k] = options[0]
            if i == 0 and k == wanted and len(options) > 1:
                runner_up = options[1][0]
    score, shapes = best[0][wanted]
    return build_reading(elements, shapes, score - runner_up < CLOSE_CALL)


def build_reading(elements: Sequence[Element], shapes: Sequence[tuple[str, ...]], close: bool) -> Reading:
    sets: list[TitleSet] = []
    captions: list[Element] = []
    i = 0
    for shape in shapes:
        part = dict(zip(shape, elements[i : i + len(shape)], strict=True))
        i += len(shape)
        if shape == (CAPTION,):
            captions.append(part[CAPTION])
        else:
            sets.append(TitleSet(part.get(KICKER), part[HEADLINE], part.get(SUBHEADLINE)))
    return Reading(tuple(sets), tuple(captions), close and bool(sets))
