"""Writing the drafts: `.md` files in the corpus layout, or JSONL; never over an existing file."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from builder import schema, sources
from builder.extract.metadata import PageMeta


class ExistsError(FileExistsError):
    """Some of the files to write exist already; nothing was written."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        shown = ", ".join(str(p) for p in paths[:3]) + (
            f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        )
        super().__init__(f"refusing to overwrite {shown}; nothing was written")


def draft_paths(records: list[dict[str, Any]], root: str | Path) -> list[Path]:
    return [sources.article_path(root, rec) for rec in records]


def jsonl_text(records: list[dict[str, Any]]) -> str:
    """One JSON object a line, fields in schema order."""
    order = schema.field_names()
    return "".join(sources.to_jsonl_line(rec, order) + "\n" for rec in records)


def jsonl_path(root: str | Path, meta: PageMeta) -> Path:
    """`<root>/YYYY/MM/DD/<slug>-<YYYYMMDD>-<label>.jsonl`: all drafts of one page."""
    year, month, day = meta.date.split("-")
    return Path(root) / year / month / day / f"{meta.slug}-{meta.date.replace('-', '')}-{meta.label}.jsonl"


def write_all(files: dict[Path, str]) -> list[Path]:
    """Write new files, all or none: refuse if any exists, remove the written ones on failure."""
    existing = [p for p in files if p.exists()]
    if existing:
        raise ExistsError(existing)
    written: list[Path] = []
    try:
        for path, content in files.items():
            sources.write_new(path, content)
            written.append(path)
    except FileExistsError as err:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise ExistsError([Path(err.filename2 or err.filename or "")]) from err
    return written


def markdown_files(records: list[dict[str, Any]], root: str | Path) -> dict[Path, str]:
    order = schema.field_names()
    return {sources.article_path(root, rec): sources.to_markdown(rec, order) for rec in records}
