"""Raw newspaper page text → draft articles and a review report.

`extract_text` reads one page: line classes (`lines`), bodies, bylines and title elements
(`blocks`), titles (`titles`), articles (`assembly`), the review report (`report`).
`extract_page` is what `newsset extract` runs: read the page and its metadata, extract, write the
drafts (`output`) and the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import sources
from builder.extract import assembly, blocks, lines, output, report
from builder.extract.metadata import MetadataError, MetaOptions, PageMeta, resolve
from builder.extract.output import ExistsError

__all__ = [
    "ExistsError",
    "ExtractError",
    "Extraction",
    "MetaOptions",
    "MetadataError",
    "Outcome",
    "PageMeta",
    "extract_page",
    "extract_text",
    "read_page",
]


class ExtractError(ValueError):
    """The page cannot be read (missing, not UTF-8); the message names file and line."""


@dataclass
class Extraction:
    """One page extracted: the draft records, the layout they came from, the review report."""

    page: str
    meta: PageMeta
    lines: list[lines.Line]
    layout: assembly.Layout
    records: list[dict[str, Any]]

    @property
    def review(self) -> dict[str, Any]:
        return report.review(self.page, self.meta, self.lines, self.layout, self.records)

    def accounting(self) -> dict[int, list[str]]:
        """Input line number → what it went into."""
        return report.accounting(self.layout, [r["id"] for r in self.records])

    def line_uses(self) -> list[report.LineUse]:
        """What every input line went into, by article number and field (the review's map)."""
        return report.line_uses(self.layout)


def extract_text(page_text: str, meta: PageMeta, page: str = "<page>") -> Extraction:
    """Extract the articles of one page of raw text."""
    classified = lines.classify(page_text)
    pieces = list(blocks.pieces(classified))
    layout = assembly.assemble(pieces, classified)
    records = [assembly.record(article, meta) for article in layout.articles]
    return Extraction(page, meta, classified, layout, records)


def read_page(path: str | Path) -> str:
    """The page's text; a clear error naming the file (and line) when it cannot be read."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ExtractError(f"{name}: cannot read the page: {err.strerror or err}") from err
    decoded, problem = sources.decode(name, raw)
    if decoded is None:
        where = f"{name}:{problem.line}:{problem.col}" if problem else name
        detail = f": {problem.message} ({problem.hint})" if problem else ""
        raise ExtractError(f"{where}: cannot read the page{detail}")
    return decoded


@dataclass
class Outcome:
    """What `extract_page` did: the extraction, the files it wrote, the text meant for stdout."""

    extraction: Extraction
    written: list[Path] = field(default_factory=list)
    stdout: str = ""


def extract_page(
    page_path: str | Path,
    given: MetaOptions | None = None,
    *,
    fmt: str = "md",
    out: str | Path | None = None,
    report_path: str | Path | None = None,
) -> Outcome:
    """Extract a page and write its drafts and report; nothing is written over an existing file.

    `out` is a folder (default `articles`), or `-` for stdout (the default for jsonl). Raises
    MetadataError, ExtractError or ExistsError; with ExistsError nothing was written.
    """
    meta = resolve(page_path, given)
    extraction = extract_text(read_page(page_path), meta, str(page_path))
    target = str(out) if out is not None else ("-" if fmt == "jsonl" else "articles")
    files: dict[Path, str] = {}
    stdout = ""
    if target == "-":
        stdout = output.jsonl_text(extraction.records)
    elif fmt == "jsonl":
        files[output.jsonl_path(target, meta)] = output.jsonl_text(extraction.records)
    else:
        files.update(output.markdown_files(extraction.records, target))
    if report_path is not None:
        files[Path(report_path)] = report.to_json(extraction.review)
    written = output.write_all(files)
    return Outcome(extraction, written, stdout)
