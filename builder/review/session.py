"""A review session: one raw page, its drafts in an articles folder, the corrections and undo.

The session starts from what `extract` makes of the page, with the fields of draft files that
are already on disk laid over it (a person's earlier edits are never lost). It remembers the
content hash of every file it may write, so that saving never overwrites a file changed on
disk since it was loaded. Saving uses the writer `extract` uses.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import schema, sources
from builder.diagnostics import Diagnostic
from builder.extract import Extraction, extract_text, read_page
from builder.extract import output as extract_output
from builder.extract.assembly import confidence
from builder.extract.metadata import MetaOptions, resolve
from builder.review import draft as model
from builder.review.draft import CorrectionError, Draft, Page
from builder.validate import validate_record

HISTORY = 500  # undo steps kept
KEY_FIELDS = ("id", "date", "page")  # they name the file: always the page's own
SPLIT_OFF = "made in review (split off another article)"


class SaveRefused(Exception):
    """Errors remain and a final save was asked for; nothing was written."""


class SaveConflict(Exception):
    """Files changed on disk since they were loaded, or not this review's to write; nothing
    was written."""

    def __init__(self, root: Path, changed: list[Path], protected: list[Path]) -> None:
        self.paths = changed + protected
        parts = []
        if changed:
            parts.append(f"changed on disk since the review loaded them: {shown(root, changed)}")
        if protected:
            parts.append(
                f"not saved over (unreadable, or not an article of this review): {shown(root, protected)}"
            )
        super().__init__(
            "; ".join(parts) + "; nothing was saved. Reload to start again from the files as they "
            "are now (your unsaved corrections are lost)."
        )


def shown(root: Path, paths: list[Path]) -> str:
    """The paths as the person knows them: under the articles folder."""
    base = root.resolve()
    return ", ".join(str(root / p.relative_to(base)) if p.is_relative_to(base) else str(p) for p in paths)


@dataclass(frozen=True)
class Extracted:
    """What the extractor said about one article: its confidence, the reasons, its lines."""

    confidence: float
    reasons: tuple[str, ...]
    lines: frozenset[int]


@dataclass
class SaveResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    errors: int = 0
    as_draft: bool = False

    def message(self) -> str:
        parts = [f"wrote {len(self.written)} file{'s' * (len(self.written) != 1)}"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        if self.removed:
            parts.append(f"removed {', '.join(p.name for p in self.removed)}")
        if self.as_draft and self.errors:
            parts.append(f"saved as a draft with {self.errors} error{'s' * (self.errors != 1)}")
        return "; ".join(parts)


def content_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when there is no file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def id_pattern() -> re.Pattern[str]:
    return re.compile(schema.load()["properties"]["id"]["pattern"])


def safe_path(root: Path, record: dict[str, Any]) -> Path:
    """Where a record is saved: inside `root`, or ValueError (ids and dates are checked)."""
    record_id, date = str(record.get("id", "")), str(record.get("date", ""))
    if not id_pattern().match(record_id) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise ValueError(f"refusing to save a record with id {record_id!r} and date {date!r}")
    path = sources.article_path(root, record).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write outside {root}: {path}")
    return path


class Session:
    """The review of one page: the current draft, its undo history and the files on disk."""

    def __init__(self, extraction: Extraction, articles: str | Path) -> None:
        self.root = Path(articles)
        self.lock = threading.RLock()
        self.page, self.start = model.from_extraction(extraction)
        self.extracted = {
            article.number: Extracted(
                confidence(article.notes),
                tuple(note.reason for note in article.notes),
                frozenset(self.start.lines_of(article.number)),
            )
            for article in extraction.layout.articles
        }
        self.reload()

    def reload(self) -> None:
        """Start again from the extraction and the files as they are on disk now."""
        with self.lock:
            self.notices: list[str] = []
            self.loaded: dict[Path, str | None] = {}  # path → content hash when loaded (None: none)
            self.owned: set[Path] = set()  # files that hold an article of this review
            self.protected: set[Path] = set()  # files never written: unreadable, or not ours
            self.draft = self.load_files(self.start)
            self.saved_draft = self.draft
            self.history: list[Draft] = []
            self.last_edit: tuple[Any, Any] | None = None

    # --- loading ---------------------------------------------------------------------------

    def page_files(self) -> list[Path]:
        """Files in the page's date folder whose names are ids of this page."""
        meta = self.page.meta
        folder = (self.root / meta.date.replace("-", "/")).resolve()
        prefix = meta.article_id(0)[:-2]
        return sorted(folder.glob(f"{prefix}*.md")) if folder.is_dir() else []

    def load_files(self, start: Draft) -> Draft:
        """Lay the fields of draft files already on disk over the extractor's records."""
        current = start
        targets = {safe_path(self.root, rec): key for key, rec in model.records(self.page, start)}
        for path in sorted({*targets, *self.page_files()}):
            self.loaded[path] = content_hash(path)
            if self.loaded[path] is None:
                continue
            key = targets.get(path)
            if key is None:
                self.protected.add(path)
                self.notices.append(f"{path.name} is on disk but not an article of this review: left alone")
                continue
            self.owned.add(path)
            result = sources.read_path(path)
            if result.diagnostics or len(result.sources) != 1:
                self.protected.add(path)
                self.notices.append(
                    f"{path.name} cannot be read (newsset validate says why): it will not be saved over"
                )
                continue
            current = self.lay_over(current, key, result.sources[0].data)
        return current

    def lay_over(self, current: Draft, key: int, data: dict[str, Any]) -> Draft:
        derived = dict(model.records(self.page, current))[key]
        edits = {
            name: data.get(name)
            for name in schema.field_names()
            if name not in KEY_FIELDS and data.get(name) != derived.get(name)
        }
        if not edits:
            return current
        self.notices.append(f"{derived['id']}: kept the file's {', '.join(edits)} (edited since extraction)")
        return Draft(current.places, {**current.edits, key: edits}, current.next_key)

    # --- corrections -----------------------------------------------------------------------

    def apply(self, name: str, args: dict[str, Any]) -> None:
        """Make one correction (named as in OPERATIONS), keeping the old draft for undo.

        Consecutive edits of one field are one step to undo.
        """
        if name not in OPERATIONS:
            raise CorrectionError(f"unknown correction '{name}'")
        with self.lock:
            new = OPERATIONS[name](self.page, self.draft, Args(args))
            if new == self.draft:
                return
            edit = (args.get("article"), args.get("field")) if name == "edit" else None
            if edit is None or edit != self.last_edit:
                self.history = [*self.history[-HISTORY + 1 :], self.draft]
            self.last_edit = edit  # type: ignore[assignment]
            self.draft = new

    def undo(self) -> bool:
        with self.lock:
            self.last_edit = None
            if not self.history:
                return False
            self.draft = self.history.pop()
            return True

    # --- what the page shows ---------------------------------------------------------------

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        return model.records(self.page, self.draft)

    def diagnostics(self, record: dict[str, Any]) -> list[Diagnostic]:
        return validate_record(record, str(sources.article_path(self.root, record)))

    def view(self) -> dict[str, Any]:
        """Everything the review page shows, as one JSON-ready document."""
        with self.lock:
            draft = self.draft
            recs = self.records()
            articles = [self.article_view(key, rec) for key, rec in recs]
            return {
                "page": self.page.name,
                "meta": self.page.meta.as_dict(),
                "articles_dir": str(self.root),
                "lines": [self.line_view(line.number, line.text, line.kind) for line in self.page.lines],
                "articles": articles,
                "errors": sum(a["errors"] for a in articles),
                "warnings": sum(a["warnings"] for a in articles),
                "can_undo": bool(self.history),
                "unsaved": draft != self.saved_draft,
                "notices": list(self.notices),
                "editable": list(model.EDITABLE),
            }

    def line_view(self, number: int, text: str, kind: str) -> dict[str, Any]:
        place = self.draft.places.get(number)
        return {
            "n": number,
            "text": text,
            "kind": kind,
            "article": place.article if place else None,
            "role": place.role if place else "blank",
            "reason": place.reason if place else "",
        }

    def article_view(self, key: int, record: dict[str, Any]) -> dict[str, Any]:
        found = self.diagnostics(record)
        extracted = self.extracted.get(key)
        lines = self.draft.lines_of(key)
        return {
            "key": key,
            "id": record["id"],
            "file": str(sources.article_path(self.root, record)),
            "record": record,
            "edited": sorted(self.draft.edits.get(key, {})),
            "lines": {role: self.draft.lines_of(key, role) for role in model.ARTICLE_ROLES},
            "confidence": extracted.confidence if extracted else None,
            "reasons": list(extracted.reasons) if extracted else [SPLIT_OFF],
            "changed": extracted is None or extracted.lines != frozenset(lines),
            "diagnostics": [d.as_dict() for d in found],
            "errors": sum(1 for d in found if d.is_error),
            "warnings": sum(1 for d in found if not d.is_error),
        }

    # --- saving ----------------------------------------------------------------------------

    def save(self, as_draft: bool = False) -> SaveResult:
        """Write the articles' files with extract's writer.

        Refused (SaveRefused) while errors remain unless `as_draft`; refused (SaveConflict)
        when a file changed on disk since it was loaded or last saved. The files of articles
        merged away are removed. Each file is written atomically.
        """
        with self.lock:
            recs = [rec for _key, rec in self.records()]
            errors = sum(1 for rec in recs for d in self.diagnostics(rec) if d.is_error)
            if errors and not as_draft:
                raise SaveRefused(
                    f"not saved: {errors} error{'s' * (errors != 1)} remain; fix them or save as a draft"
                )
            files = {safe_path(self.root, rec): text for rec, text in self.rendered(recs)}
            stale = sorted(p for p in self.owned if p not in files and p not in self.protected)
            changed = [p for p in sorted({*files, *stale}) if content_hash(p) != self.loaded.get(p)]
            protected = sorted(p for p in files if p in self.protected and p not in changed)
            if changed or protected:
                raise SaveConflict(self.root, changed, protected)
            result = SaveResult(errors=errors, as_draft=as_draft)
            for path, text in files.items():
                write(path, text, result)
                self.loaded[path] = content_hash(path)
            for path in stale:
                path.unlink()
                self.loaded[path] = None
                result.removed.append(path)
            self.owned = set(files)
            self.protected -= set(files)
            self.saved_draft = self.draft
            return result

    def rendered(self, recs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        files = extract_output.markdown_files(recs, self.root)
        return [(rec, files[sources.article_path(self.root, rec)]) for rec in recs]


def write(path: Path, text: str, result: SaveResult) -> None:
    """Write one file atomically: a new one with write_new, an existing one replaced."""
    if not path.exists():
        sources.write_new(path, text)
    elif path.read_bytes() == text.encode("utf-8"):
        result.unchanged.append(path)
        return
    else:
        sources.replace_file(path, text)
    result.written.append(path)


def open_session(page_path: str | Path, articles: str | Path = "articles") -> Session:
    """Extract the page and start its review against the drafts in `articles`.

    Page metadata comes from the sidecar next to the page (as for extract). Raises
    MetadataError or ExtractError when the page cannot be read.
    """
    meta = resolve(page_path, MetaOptions())
    return Session(extract_text(read_page(page_path), meta, str(page_path)), articles)


# --- the corrections by name, with their arguments checked -----------------------------------


class Args:
    """The arguments of a correction as sent by the page: untrusted, so every one is checked."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def int(self, name: str, optional: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None and optional:
            return None
        if not is_whole(value):
            raise CorrectionError(f"'{name}' must be a whole number")
        return value

    def key(self, name: str) -> int:
        return self.int(name)  # type: ignore[return-value]

    def lines(self) -> list[int]:
        value = self.values.get("lines")
        if not isinstance(value, list) or not all(map(is_whole, value)):
            raise CorrectionError("'lines' must be a list of line numbers")
        return value

    def text(self, name: str) -> str:
        value = self.values.get(name)
        if not isinstance(value, str):
            raise CorrectionError(f"'{name}' must be text")
        return value


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Operation = Callable[[Page, Draft, Args], Draft]
OPERATIONS: dict[str, Operation] = {
    "edit": lambda p, d, a: model.edit_field(p, d, a.key("article"), a.text("field"), a.text("value")),
    "move": lambda p, d, a: model.move_lines(p, d, a.lines(), a.int("article", optional=True)),
    "assign_byline": lambda p, d, a: model.assign_byline(p, d, a.key("line"), a.key("article")),
    "mark": lambda p, d, a: model.mark(p, d, a.lines(), a.key("article"), a.text("role")),
    "split": lambda p, d, a: model.split(p, d, a.key("article"), a.key("line")),
    "merge": lambda p, d, a: model.merge(p, d, a.key("article"), a.key("other")),
}
