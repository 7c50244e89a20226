"""The Hugging Face Hub's documented rules for a dataset card's YAML, checked offline.

The Hub checks a card's metadata only when the card is pushed. These are the same documented
rules, checked before that from lists kept in `builder/data/` (each file says where its list
comes from): `license` ids (and `license_name` / `license_link` for `other`), `size_categories`
buckets, `task_categories` ids, `language` codes and `configs` paths that name files of the
release. Whether `dataset_info` and the size bucket agree with the files is `card.data_metadata`'s
business (rule R405).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

# The Hub's size buckets (the values `datasets` writes), each with the count it stays under.
SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
]
SIZE_OVER = "n>1T"
SIZE_LABELS = frozenset([label for _, label in SIZE_CATEGORIES] + [SIZE_OVER, "unknown"])

LICENSES_FILE = "hub_licenses.txt"
TASKS_FILE = "hub_task_categories.txt"
LANGUAGES_FILE = "iso639_1.txt"
# "specify an id for it here, like `my-license-1.0`" (the Hub's dataset card template)
LICENSE_NAME = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
THREE_LETTER = re.compile(r"[a-z]{3}")
BCP47 = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Finding:
    """One broken rule: the rule id, the top-level YAML key it concerns, and what is wrong."""

    rule: str
    key: str
    message: str


def size_category(count: int) -> str:
    """The Hub's bucket for a number of examples."""
    return next((label for bound, label in SIZE_CATEGORIES if count < bound), SIZE_OVER)


@cache
def known(name: str) -> dict[str, str]:
    """identifier → description from one of the lists in builder/data/ (comments skipped)."""
    text = (resources.files("builder") / "data" / name).read_text(encoding="utf-8")
    rows = (line.split("\t", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def as_list(value: Any) -> list[Any]:
    """A YAML value that may be one item or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def check(meta: dict[str, Any], release: Path) -> list[Finding]:
    """Every documented rule the card's YAML breaks."""
    return [
        *check_license(meta, release),
        *check_values(meta, "size_categories", SIZE_LABELS, "R410", "a size bucket of the Hub"),
        *check_values(meta, "task_categories", known(TASKS_FILE), "R411", "a task id of the Hub"),
        *check_languages(meta),
        *check_configs(meta, release),
    ]


def check_license(meta: dict[str, Any], release: Path) -> list[Finding]:
    licenses = as_list(meta.get("license"))
    if not licenses:
        return [Finding("R409", "license", "the card names no license")]
    out = [
        Finding("R409", "license", f"license {value!r} is not one of the Hub's license ids")
        for value in licenses
        if not isinstance(value, str) or value not in known(LICENSES_FILE)
    ]
    if "other" in licenses:
        name = meta.get("license_name")
        if not isinstance(name, str) or not LICENSE_NAME.fullmatch(name):
            out.append(
                Finding(
                    "R409",
                    "license_name" if "license_name" in meta else "license",
                    f"license: other needs a license_name in lower case, e.g. my-license-1.0 (got {name!r})",
                )
            )
    link = meta.get("license_link")
    if link is not None and not link_exists(link, release):
        out.append(
            Finding("R409", "license_link", f"license_link {link!r} is no URL and no file of the release")
        )
    return out


def link_exists(link: Any, release: Path) -> bool:
    if not isinstance(link, str):
        return False
    if link.startswith(("https://", "http://")):
        return True
    return inside(link) and (release / link).is_file()


def inside(path: str) -> bool:
    """A relative POSIX path that stays inside the release folder."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts


def check_values(meta: dict[str, Any], key: str, allowed: Any, rule: str, what: str) -> list[Finding]:
    return [
        Finding(rule, key, f"{key}: {value!r} is not {what}")
        for value in as_list(meta.get(key))
        if not isinstance(value, str) or value not in allowed
    ]


def language_code(value: Any) -> bool:
    """ISO 639-1 (from the list) or the shape of an ISO 639-2/3 code."""
    return isinstance(value, str) and (value in known(LANGUAGES_FILE) or bool(THREE_LETTER.fullmatch(value)))


def check_languages(meta: dict[str, Any]) -> list[Finding]:
    codes = as_list(meta.get("language"))
    out = [
        Finding("R412", "language", f"language: {value!r} is not an ISO 639-1 or 639-3 code")
        for value in codes
        if not language_code(value)
    ]
    for tag in as_list(meta.get("language_details")):
        if not isinstance(tag, str) or not BCP47.fullmatch(tag):
            out.append(Finding("R412", "language_details", f"language_details: {tag!r} is not a BCP 47 tag"))
        elif tag.split("-")[0].lower() not in codes:
            message = f"language_details: {tag!r} is not a variant of a language the card lists"
            out.append(Finding("R412", "language_details", message))
    return out


def config_paths(config: Any) -> list[Any]:
    """The path patterns of one `configs` entry, in whichever form `data_files` takes."""
    files = config.get("data_files") if isinstance(config, dict) else None
    out: list[Any] = []
    for item in as_list(files):
        out += as_list(item.get("path")) if isinstance(item, dict) else [item]
    return out


def check_configs(meta: dict[str, Any], release: Path) -> list[Finding]:
    """Every `data_files` path of every config matches at least one file of the release."""
    out = []
    for config in as_list(meta.get("configs")):
        name = config.get("config_name", "?") if isinstance(config, dict) else "?"
        paths = config_paths(config)
        if not paths:
            out.append(Finding("R413", "configs", f"configs: {name} names no data_files"))
        for pattern in paths:
            if not isinstance(pattern, str) or not inside(pattern):
                message = f"configs: {pattern!r} is not a path inside the release"
                out.append(Finding("R413", "configs", message))
            elif not any(p.is_file() for p in release.glob(pattern)):
                out.append(Finding("R413", "configs", f"configs: {pattern!r} matches no file of the release"))
    return out
