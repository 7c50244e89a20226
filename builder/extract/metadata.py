"""Page metadata: publication, id slug, date, page and section of one raw page.

They come from the command line, or from the sidecar `<page>.json` that sits next to a raw
page in the `raw/<slug>/YYYY/MM/DD/pNN.txt` layout; a value given on the command line wins.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_PAGE_STEM_RE = re.compile(r"^p(\d+)$")


class MetadataError(ValueError):
    """The page's metadata is missing or malformed; the message says what to give."""


@dataclass(frozen=True)
class PageMeta:
    source: str
    slug: str
    date: str
    page: int
    section: str

    @property
    def label(self) -> str:
        """The page label used in ids: `p01` (what validate checks against `page`)."""
        return f"p{self.page:02d}"

    def article_id(self, number: int) -> str:
        return f"{self.slug}-{self.date.replace('-', '')}-{self.label}-{number:02d}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "slug": self.slug,
            "date": self.date,
            "page": self.page,
            "section": self.section,
        }


def sidecar_path(page_path: str | Path) -> Path:
    return Path(page_path).with_suffix(".json")


def read_sidecar(page_path: str | Path) -> dict[str, Any]:
    """The sidecar's fields, or {} when there is none."""
    path = sidecar_path(page_path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MetadataError(f"{path}: cannot read the page metadata: {err}") from err
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: the page metadata must be a JSON object")
    return data


def slug_from_layout(page_path: str | Path) -> str | None:
    """`raw/pinghu/2020/11/09/p01.txt` → `pinghu`."""
    parts = Path(page_path).parts
    if len(parts) >= 5 and all(p.isdigit() for p in parts[-4:-1]) and SLUG_RE.match(parts[-5]):
        return parts[-5]
    return None


def page_from_name(page_path: str | Path) -> int | None:
    """`p01.txt` → 1."""
    m = _PAGE_STEM_RE.match(Path(page_path).stem)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class MetaOptions:
    """Page metadata given on the command line; None where the sidecar or layout must say."""

    source: str | None = None
    date: str | None = None
    page: int | None = None
    section: str | None = None
    slug: str | None = None


def resolve(page_path: str | Path, given: MetaOptions | None = None) -> PageMeta:
    """Combine command-line values with the sidecar and the file's place in `raw/`."""
    given = given or MetaOptions()
    side = read_sidecar(page_path)
    source = given.source or side.get("source")
    date = given.date or side.get("date")
    page = given.page if given.page is not None else side.get("page", page_from_name(page_path))
    section = given.section or side.get("section")
    slug = given.slug or side.get("slug") or slug_from_layout(page_path)
    if slug is None and source and SLUG_RE.match(source):
        slug = source
    where = f"{page_path}: "
    if not source:
        raise MetadataError(where + "no publication name: give --source or a sidecar .json with 'source'")
    if not date:
        raise MetadataError(where + "no date: give --date YYYY-MM-DD or a sidecar .json with 'date'")
    check_date(str(date), where)
    if not section:
        raise MetadataError(where + "no section: give --section, e.g. 要闻, or a sidecar 'section'")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise MetadataError(
            where + "no page number: give --page N, a sidecar 'page', or name the file pNN.txt"
        )
    if not slug or not SLUG_RE.match(str(slug)):
        raise MetadataError(
            where + "no id prefix: give --slug (lower-case letters and digits, e.g. pinghu), "
            "a sidecar 'slug', or keep the page under raw/<slug>/YYYY/MM/DD/"
        )
    return PageMeta(str(source), str(slug), str(date), page, str(section))


def check_date(value: str, where: str) -> None:
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError as err:
        raise MetadataError(f"{where}'{value}' is not a date; write YYYY-MM-DD, e.g. 2020-11-09") from err
    if parsed.isoformat() != value:
        raise MetadataError(f"{where}'{value}' is not a date; write YYYY-MM-DD, e.g. 2020-11-09")
