"""The review report: what a person must check before the drafts join the corpus.

Per article its confidence and the reasons; the bylines that could not be attributed; every
input line that went into no article, with its number. The same content is given as JSON (for
programs and `--report FILE`) and as text (on stderr).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from builder.extract.assembly import Article, Layout, confidence
from builder.extract.blocks import BylineGroup
from builder.extract.lines import BLANK, Line
from builder.extract.metadata import PageMeta


def article_lines(article: Article) -> dict[str, list[int]]:
    """Field → [first line, last line] of the input lines that went into it."""
    spans: dict[str, list[int]] = {}
    if article.byline is not None:
        spans["byline"] = span(article.byline.lines)
    if article.title is not None:
        for role, element in article.title.elements():
            spans[role] = span(element.lines)
    spans["body"] = span(article.body.lines)
    return spans


def span(lines: list[Line]) -> list[int]:
    return [lines[0].number, lines[-1].number]


UNATTRIBUTED = "unattributed byline"
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class LineUse:
    """What one input line went into: a field of an article (by its number), or no article.

    `role` is `body`, `kicker`, `headline`, `subheadline` or `byline` for an article's line;
    for a line in no article it is `unattributed byline` or `unassigned` (with the reason).
    """

    line: int
    article: int | None
    role: str
    reason: str = ""


def line_uses(layout: Layout) -> list[LineUse]:
    """Every use of every input line, in line order (a line should have exactly one)."""
    uses: list[LineUse] = []
    for article in layout.articles:
        uses.extend(LineUse(line.number, article.number, "body") for line in article.body.lines)
        if article.byline is not None:
            uses.extend(LineUse(line.number, article.number, "byline") for line in article.byline.lines)
        if article.title is not None:
            for role, element in article.title.elements():
                uses.extend(LineUse(line.number, article.number, role) for line in element.lines)
    for group in layout.unattributed:
        uses.extend(LineUse(line.number, None, UNATTRIBUTED) for line in group.lines)
    uses.extend(LineUse(s.line.number, None, UNASSIGNED, s.reason) for s in layout.unassigned)
    return sorted(uses, key=lambda use: use.line)


def accounting(layout: Layout, ids: list[str]) -> dict[int, list[str]]:
    """Every input line that was used, with what it went into (a line should have one use)."""
    uses: dict[int, list[str]] = {}
    for use in line_uses(layout):
        if use.article is not None:
            label = f"{ids[use.article - 1]} {use.role}"
        else:
            label = f"unassigned: {use.reason}" if use.role == UNASSIGNED else use.role
        uses.setdefault(use.line, []).append(label)
    return uses


def unaccounted(lines: list[Line], uses: dict[int, list[str]]) -> list[Line]:
    """Non-blank lines with no use, or with more than one (both would be a bug)."""
    return [line for line in lines if line.kind != BLANK and len(uses.get(line.number, [])) != 1]


def byline_entry(group: BylineGroup) -> dict[str, Any]:
    return {
        "lines": span(group.lines),
        "byline": group.text,
        "printed": " / ".join(line.stripped for line in group.lines),
    }


def review(
    page: str, meta: PageMeta, lines: list[Line], layout: Layout, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """The review report as one JSON-ready document (no timestamps, no machine paths)."""
    articles = []
    for article, rec in zip(layout.articles, records, strict=True):
        articles.append(
            {
                "id": rec["id"],
                "headline": rec.get("headline"),
                "confidence": confidence(article.notes),
                "reasons": [n.reason for n in article.notes],
                "lines": article_lines(article),
            }
        )
    return {
        "page": page,
        "metadata": meta.as_dict(),
        "summary": {
            "lines": len(lines),
            "articles": len(layout.articles),
            "unattributed_bylines": len(layout.unattributed),
            "unassigned_lines": len(layout.unassigned),
        },
        "articles": articles,
        "unattributed_bylines": [byline_entry(g) for g in layout.unattributed],
        "unassigned_lines": [
            {"line": s.line.number, "text": s.line.stripped, "reason": s.reason} for s in layout.unassigned
        ],
    }


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_text(doc: dict[str, Any]) -> str:
    """The report for people: one block per article, then what a person must decide."""
    page, summary = doc["page"], doc["summary"]
    out = [
        f"{page}: {summary['articles']} articles, {summary['unattributed_bylines']} unattributed "
        f"bylines, {summary['unassigned_lines']} unassigned lines"
    ]
    for art in doc["articles"]:
        out.append(f"  {art['id']}  confidence {art['confidence']:.2f}  {art['headline'] or '(no headline)'}")
        out.extend(f"      - {reason}" for reason in art["reasons"])
    if doc["unattributed_bylines"]:
        out.append("bylines not attributed to any article (a person must decide):")
        out.extend(f"  {page}:{b['lines'][0]}  {b['byline']}" for b in doc["unattributed_bylines"])
    if doc["unassigned_lines"]:
        out.append("lines that went into no article:")
        out.extend(f"  {page}:{u['line']}  {u['reason']}: {u['text']}" for u in doc["unassigned_lines"])
    return "\n".join(out)
