"""Assembly: bodies, titles and bylines of a page put together into articles.

Articles are numbered in reading order (by where their bodies start). A byline goes to the
body it directly precedes and to no other; a title goes to the nearest body before it that has
none yet. What fits nowhere is kept, with the reason, for the review report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from builder import bylines, rules, schema, text
from builder.extract.blocks import Body, BylineGroup, Element, Piece, Skipped, side_columns
from builder.extract.lines import BLANK, JUMP, Line
from builder.extract.metadata import PageMeta
from builder.extract.titles import Reading, TitleSet, joined, read_gap

SHORT_BODY = rules.SHORT_BODY
LONG_HEADLINE = rules.LONG_HEADLINE
UNPLACED = "not placed by the extractor (please report this page)"


@dataclass(frozen=True)
class Note:
    """One reason in the review report; `penalty` is what it takes off the confidence."""

    penalty: float
    reason: str


@dataclass
class Article:
    """One article being put together: its body, and the title and byline found for it."""

    number: int
    body: Body
    title: TitleSet | None = None
    title_after: int | None = None  # number of the article whose body the title follows
    title_close_call: bool = False
    byline: BylineGroup | None = None
    notes: list[Note] = field(default_factory=list)


@dataclass
class Layout:
    """The page's pieces sorted out: articles, and what belongs to none of them."""

    articles: list[Article]
    unattributed: list[BylineGroup]
    unassigned: list[Skipped]


# --- text of the record --------------------------------------------------------------------


def clean_text(value: str) -> str:
    """The safe cleaning: NFC, no justification or stray spaces, full-width punctuation."""
    return text.clean_paragraph(text.remove_stray_spaces(text.nfc(value)))


def paragraph_text(lines: list[Line]) -> str:
    """One paragraph: hard wraps joined and cleaned; the space after a dateline is kept."""
    value = text.join_wrapped([line.stripped for line in lines])
    prefix = bylines.dateline(value)
    if not prefix:
        return clean_text(value)
    rest = value[len(prefix) :]
    gap = " " if rest[:1] in text.SPACES and rest.strip(text.SPACES) else ""
    return prefix + gap + clean_text(rest.lstrip(text.SPACES))


def title_text(element: Element) -> str:
    """A title field: a doubled couplet's lines each kept once, joined by one space."""
    if element.doubled:
        return " ".join(clean_text(part) for part in joined(element).split(" "))
    return clean_text(joined(element))


def body_text(body: Body) -> str:
    return "\n".join(paragraph_text(p) for p in body.paragraphs)


def record(article: Article, meta: PageMeta) -> dict[str, Any]:
    """The draft record of an article, fields in schema order, absent ones left out."""
    titles = dict(article.title.elements()) if article.title is not None else {}
    return draft_record(meta, article.number, article.body, titles, article.byline)


def draft_record(
    meta: PageMeta,
    number: int,
    body: Body | None,
    titles: dict[str, Element],
    byline: BylineGroup | None,
) -> dict[str, Any]:
    """The record of article `number` from its parts (a body whose paragraphs are split)."""
    values: dict[str, Any] = {
        "id": meta.article_id(number),
        "source": meta.source,
        "date": meta.date,
        "page": meta.page,
        "section": meta.section,
        "body": body_text(body) if body is not None else "",
    }
    for role, element in titles.items():
        values[role] = title_text(element)
    if byline is not None and byline.text:
        values["byline"] = byline.text
    return {name: values[name] for name in schema.field_names() if values.get(name) is not None}


# --- putting the page together -------------------------------------------------------------


def next_text_line(lines: list[Line], after: int) -> Line | None:
    """The first non-blank line after line number `after`."""
    for line in lines[after:]:
        if line.kind != BLANK:
            return line
    return None


def attribute_bylines(pieces: list[Piece], articles: list[Article], lines: list[Line]) -> list[BylineGroup]:
    """Give each byline group to the body it directly precedes; return the ones left over."""
    by_start = {a.body.start: a for a in articles}
    left: list[BylineGroup] = []
    for piece in pieces:
        if not isinstance(piece, BylineGroup):
            continue
        following = next_text_line(lines, piece.lines[-1].number)
        article = by_start.get(following.number) if following else None
        if article is not None and article.byline is None and piece.text:
            article.byline = piece
        else:
            left.append(piece)
    return left


def gaps(pieces: list[Piece]) -> list[list[Element]]:
    """Title elements grouped by the body they follow; gap 0 is before the first body."""
    out: list[list[Element]] = [[]]
    for piece in pieces:
        if isinstance(piece, Body):
            out.append([])
        elif isinstance(piece, Element):
            out[-1].append(piece)
    return out


def assign_titles(pieces: list[Piece], articles: list[Article]) -> list[Skipped]:
    """Read each gap's elements as titles for the nearest bodies before it still without one."""
    left: list[Skipped] = []
    for after, elements in enumerate(gaps(pieces)):
        if not elements:
            continue
        waiting = [a for a in reversed(articles[:after]) if a.title is None]
        if not waiting:
            reason = (
                "text before the first article" if after == 0 else "text between articles (no title missing)"
            )
            left.extend(Skipped(line, reason) for el in elements for line in el.lines)
            continue
        reading: Reading = read_gap(elements, len(waiting))
        for title, article in zip(reading.sets, waiting, strict=False):
            article.title = title
            article.title_after = after
            article.title_close_call = reading.close_call
        left.extend(Skipped(line, "caption or logo") for el in reading.captions for line in el.lines)
    return left


def assemble(pieces: list[Piece], lines: list[Line]) -> Layout:
    """Articles in reading order with their titles and bylines; the rest for the report."""
    bodies = [p for p in pieces if isinstance(p, Body)]
    articles = [Article(n, body) for n, body in enumerate(bodies, start=1)]
    unattributed = attribute_bylines(pieces, articles, lines)
    unassigned = [p for p in pieces if isinstance(p, Skipped)]
    unassigned.extend(assign_titles(pieces, articles))
    unassigned.extend(unplaced(pieces, lines))
    unassigned.sort(key=lambda s: s.line.number)
    for article in articles:
        article.notes = review_notes(article, articles, unattributed)
    return Layout(articles, unattributed, unassigned)


def unplaced(pieces: list[Piece], lines: list[Line]) -> list[Skipped]:
    """Lines no piece took: none, unless the extractor has a bug; listed rather than lost."""
    placed = {line.number for piece in pieces for line in piece_lines(piece)}
    return [Skipped(line, UNPLACED) for line in lines if line.kind != BLANK and line.number not in placed]


def piece_lines(piece: Piece) -> list[Line]:
    return [piece.line] if isinstance(piece, Skipped) else piece.lines


# --- what the reviewer should know ---------------------------------------------------------


def review_notes(article: Article, articles: list[Article], unattributed: list[BylineGroup]) -> list[Note]:
    """The reasons behind an article's confidence, the reassuring ones included."""
    return [
        *body_notes(article.body),
        *title_notes(article, articles),
        *byline_notes(article, articles, unattributed),
    ]


def body_notes(body: Body) -> list[Note]:
    if body.dated:
        notes = [Note(0.0, f"body starts with the dateline {bylines.dateline(body.lines[0].stripped)}")]
    else:
        notes = [Note(0.3, f"no dateline: the body is taken to start on line {body.start}; check it")]
    if not text.ends_paragraph(body.lines[-1].stripped):
        notes.append(Note(0.2, "the body does not end a sentence: its end may be missing or on another page"))
    for number in body.doubtful_breaks[:3]:
        notes.append(Note(0.05, f"paragraph break after line {number} is a close call: check it"))
    for first, last in side_columns(body):
        notes.append(Note(0.05, f"joined a narrow side column (lines {first}–{last})"))
    for line in body.skipped:
        if line.kind == JUMP:
            notes.append(
                Note(0.1, f"jump marker on line {line.number}: the article continues on another page")
            )
    size = sum(len("".join(line.stripped.split())) for line in body.lines)
    if size < SHORT_BODY:
        notes.append(Note(0.2, f"the body has only {size} characters"))
    return notes


def title_notes(article: Article, articles: list[Article]) -> list[Note]:
    if article.title is None:
        return [Note(0.5, "no headline found: a person must add it")]
    lines = [line.number for _role, el in article.title.elements() for line in el.lines]
    where = f"lines {lines[0]}–{lines[-1]}" if len(lines) > 1 else f"line {lines[0]}"
    notes = []
    headline = title_text(article.title.headline)
    if len(headline) > LONG_HEADLINE:
        notes.append(Note(0.2, f"the headline has {len(headline)} characters: check it is not body text"))
    if article.title_after == article.number:
        notes.append(Note(0.0, f"title ({where}) follows the body"))
    else:
        other = articles[(article.title_after or 1) - 1]
        notes.append(
            Note(0.15, f"title ({where}) is printed after article {other.number:02d}: check it belongs here")
        )
    if article.title_close_call:
        notes.append(
            Note(
                0.1,
                "the lines around the title read almost as well another way (kicker, headline, "
                "subheadline or caption): check them",
            )
        )
    return notes


def byline_notes(article: Article, articles: list[Article], unattributed: list[BylineGroup]) -> list[Note]:
    notes = []
    if article.byline is not None:
        first = article.byline.lines[0].number
        notes.append(Note(0.0, f"byline on line {first} directly precedes the body"))
    following = articles[article.number].body.start if article.number < len(articles) else None
    for group in unattributed:
        number = group.lines[0].number
        if number > article.body.end and (following is None or number < following):
            notes.append(
                Note(0.05, f"unattributed byline on line {number} ({group.text}) follows this body: check it")
            )
    return notes


def confidence(notes: list[Note]) -> float:
    return round(max(0.0, 1.0 - sum(n.penalty for n in notes)), 2)
