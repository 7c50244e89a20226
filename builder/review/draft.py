"""The page under review: where every raw line goes, and the corrections a person makes.

A `Draft` holds each non-blank line's place (a field of an article, or no article) and the
fields a person typed over. Every correction is a pure function from a draft to a new one, so
undo is keeping the old draft. Records are derived from the places with the extractor's own
text rules (`assembly.draft_record`), so an uncorrected draft gives exactly what `extract`
writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from builder import schema
from builder.extract import Extraction, assembly
from builder.extract.blocks import Body, BylineGroup, Element, split_paragraphs
from builder.extract.lines import DOUBLED, Line
from builder.extract.metadata import PageMeta
from builder.extract.report import UNASSIGNED, UNATTRIBUTED
from builder.sources import is_blank

TITLE_ROLES = ("kicker", "headline", "subheadline")
ARTICLE_ROLES = (*TITLE_ROLES, "byline", "body")
EDITABLE = (*TITLE_ROLES, "byline", "section", "body")
REMOVED = "not an article (set in review)"


class CorrectionError(ValueError):
    """A correction that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Page:
    """The raw page: its name, metadata and classified lines (numbered from 1)."""

    name: str
    meta: PageMeta
    lines: tuple[Line, ...]

    def line(self, number: int) -> Line:
        return self.lines[number - 1]


@dataclass(frozen=True)
class Place:
    """Where a line goes: a field (`role`) of article `article`, or no article (`article` None)."""

    article: int | None
    role: str
    reason: str = ""


@dataclass(frozen=True)
class Draft:
    """One state of the review. `places` maps line numbers to places; `edits` maps an article
    key to the fields typed over (None: the field removed). Article keys are stable for the
    whole review; ids are given by reading order when records are derived."""

    places: Mapping[int, Place]
    edits: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    next_key: int = 1

    def articles(self) -> list[int]:
        """Articles in reading order: by where their body starts (the extractor's order)."""
        first: dict[int, tuple[float, int]] = {}
        for number, place in sorted(self.places.items()):
            if place.article is None:
                continue
            body_start = number if place.role == "body" else math.inf
            old = first.get(place.article, (math.inf, number))
            first[place.article] = (min(old[0], body_start), min(old[1], number))
        return sorted(first, key=lambda key: first[key])

    def lines_of(self, key: int, role: str | None = None) -> list[int]:
        """Line numbers of an article (of one of its fields when `role` is given), in order."""
        return sorted(
            n for n, p in self.places.items() if p.article == key and (role is None or p.role == role)
        )


def from_extraction(extraction: Extraction) -> tuple[Page, Draft]:
    """The page and the draft as the extractor left them; article keys are its numbers."""
    page = Page(extraction.page, extraction.meta, tuple(extraction.lines))
    places = {use.line: Place(use.article, use.role, use.reason) for use in extraction.line_uses()}
    return page, Draft(places, {}, len(extraction.layout.articles) + 1)


# --- records ---------------------------------------------------------------------------------


def derived_record(page: Page, draft: Draft, key: int, number: int) -> dict[str, Any]:
    """The record an article's lines give, before the fields typed over."""
    lines = {role: [page.line(n) for n in draft.lines_of(key, role)] for role in ARTICLE_ROLES}
    body = None
    if lines["body"]:
        body = Body(lines["body"])
        split_paragraphs(body, list(page.lines))
    titles = {role: title_element(lines[role]) for role in TITLE_ROLES if lines[role]}
    byline = BylineGroup(lines["byline"]) if lines["byline"] else None
    return assembly.draft_record(page.meta, number, body, titles, byline)


def title_element(lines: list[Line]) -> Element:
    return Element(lines, doubled=any(line.kind == DOUBLED for line in lines), blank_before=False)


def apply_edits(record: dict[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    """The record with the typed fields over the derived ones, in schema order."""
    merged = {**record, **edits}
    return {name: merged[name] for name in schema.field_names() if merged.get(name) is not None}


def records(page: Page, draft: Draft) -> list[tuple[int, dict[str, Any]]]:
    """(article key, record) in reading order; ids numbered in that order."""
    return [
        (key, apply_edits(derived_record(page, draft, key, number), draft.edits.get(key, {})))
        for number, key in enumerate(draft.articles(), start=1)
    ]


# --- corrections -----------------------------------------------------------------------------


def edit_field(page: Page, draft: Draft, key: int, name: str, value: str) -> Draft:
    """Type over a field. An empty value removes the field; the value the lines give anyway
    drops the edit. The body is one paragraph a line (blank lines between are ignored)."""
    check_article(draft, key)
    if name not in EDITABLE:
        raise CorrectionError(f"'{name}' cannot be edited here; editable: {', '.join(EDITABLE)}")
    if name == "body":
        value = "\n".join(p.rstrip("\r") for p in value.split("\n") if not is_blank(p))
    number = draft.articles().index(key) + 1
    derived = derived_record(page, draft, key, number).get(name)
    edits = {**draft.edits.get(key, {})}
    if value == (derived or ""):
        edits.pop(name, None)
    else:
        edits[name] = value or None
    others = {k: v for k, v in draft.edits.items() if k != key}
    return replace(draft, edits={**others, key: edits} if edits else others)


def move_lines(page: Page, draft: Draft, numbers: Iterable[int], target: int | None) -> Draft:
    """Move lines to article `target` (None: to no article).

    A line keeps its field when it had one (a headline line stays a headline); an unattributed
    byline becomes the target's byline; anything else becomes body text.
    """
    chosen = check_lines(draft, numbers)
    if target is not None:
        check_article(draft, target)
    places = dict(draft.places)
    for n in chosen:
        old = places[n]
        if target is None:
            byline = old.role in ("byline", UNATTRIBUTED)
            places[n] = Place(None, UNATTRIBUTED) if byline else Place(None, UNASSIGNED, REMOVED)
        elif old.article is not None:
            places[n] = Place(target, old.role)
        else:
            places[n] = Place(target, "byline" if old.role == UNATTRIBUTED else "body")
    return settle(draft, places)


def assign_byline(page: Page, draft: Draft, number: int, target: int) -> Draft:
    """Give the byline printed on line `number` (and the lines it continues on) to an article.

    The article's own byline, if any, becomes unattributed; the byline leaves any article it
    was given to.
    """
    (number,) = check_lines(draft, [number])
    check_article(draft, target)
    place = draft.places[number]
    if place.role not in (UNATTRIBUTED, "byline"):
        raise CorrectionError(f"line {number} is not a byline")
    group = byline_group(draft, number)
    places = dict(draft.places)
    for n in draft.lines_of(target, "byline"):
        places[n] = Place(None, UNATTRIBUTED)
    for n in group:
        places[n] = Place(target, "byline")
    return settle(draft, places)


def byline_group(draft: Draft, number: int) -> list[int]:
    """The run of consecutive lines in the same byline place as line `number`."""
    place = draft.places[number]
    first = last = number
    while draft.places.get(first - 1) == place:
        first -= 1
    while draft.places.get(last + 1) == place:
        last += 1
    return list(range(first, last + 1))


def mark(page: Page, draft: Draft, numbers: Iterable[int], target: int, role: str) -> Draft:
    """Make exactly these lines the article's kicker, headline, subheadline or byline.

    The lines that held that field before and are not among them go to no article.
    """
    chosen = check_lines(draft, numbers)
    check_article(draft, target)
    if role not in (*TITLE_ROLES, "byline"):
        raise CorrectionError(f"a line can be marked as {', '.join((*TITLE_ROLES, 'byline'))}, not '{role}'")
    places = dict(draft.places)
    for n in draft.lines_of(target, role):
        if n not in chosen:
            places[n] = (
                Place(None, UNATTRIBUTED)
                if role == "byline"
                else Place(None, UNASSIGNED, f"was the {role}, replaced in review")
            )
    for n in chosen:
        places[n] = Place(target, role)
    return settle(draft, places)


def split(page: Page, draft: Draft, key: int, at: int) -> Draft:
    """Split an article's body before line `at`: that line and the body after it become a new
    article (without a title: a person marks one)."""
    check_article(draft, key)
    body = draft.lines_of(key, "body")
    if at not in body:
        raise CorrectionError(f"line {at} is not in the body of that article")
    if at == body[0]:
        raise CorrectionError(f"line {at} is the first line of the body: nothing to split off")
    places = dict(draft.places)
    for n in body:
        if n >= at:
            places[n] = Place(draft.next_key, "body")
    return settle(replace(draft, next_key=draft.next_key + 1), places)


def merge(page: Page, draft: Draft, key: int, other: int) -> Draft:
    """Join article `other` into article `key`: its body lines join the body; a title field
    or byline it has and `key` lacks goes along, the others go to no article."""
    check_article(draft, key)
    check_article(draft, other)
    if key == other:
        raise CorrectionError("an article cannot be merged with itself")
    has = {draft.places[n].role for n in draft.lines_of(key)}
    places = dict(draft.places)
    for n in draft.lines_of(other):
        role = draft.places[n].role
        if role == "body" or role not in has:
            places[n] = Place(key, role)
        elif role == "byline":
            places[n] = Place(None, UNATTRIBUTED)
        else:
            places[n] = Place(None, UNASSIGNED, f"was the {role} of a merged article")
    return settle(draft, places)


# --- helpers ---------------------------------------------------------------------------------


def settle(draft: Draft, places: dict[int, Place]) -> Draft:
    """The draft with new places; a typed field whose lines changed gives way to the lines,
    and the edits of articles left with no line go."""
    new = replace(draft, places=places)
    alive = set(new.articles())
    edits: dict[int, Mapping[str, Any]] = {}
    for key, fields in draft.edits.items():
        if key not in alive:
            continue
        kept = {
            name: value
            for name, value in fields.items()
            if name not in ARTICLE_ROLES or draft.lines_of(key, name) == new.lines_of(key, name)
        }
        if kept:
            edits[key] = kept
    return replace(new, edits=edits)


def check_article(draft: Draft, key: int) -> None:
    if key not in draft.articles():
        raise CorrectionError(f"there is no article {key} in this review")


def check_lines(draft: Draft, numbers: Iterable[int]) -> list[int]:
    """The line numbers, sorted and deduplicated; each must be a non-blank line of the page."""
    chosen = sorted(set(numbers))
    if not chosen:
        raise CorrectionError("no line selected")
    missing = [n for n in chosen if n not in draft.places]
    if missing:
        raise CorrectionError(f"line {missing[0]} is blank or not on the page")
    return chosen
