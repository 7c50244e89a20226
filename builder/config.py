"""The dataset's own settings, read from `newsset.toml` at the repo root.

Name, pretty name, licence, description, homepage, citation and the shard bounds of a release
live in one file so that the card and the build agree. Every key has a default, so a clone
without the file still builds; a key the file misspells is an error, not silently ignored.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "newsset.toml"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class ConfigError(Exception):
    """The config file cannot be read or says something the build cannot use."""


@dataclass(frozen=True)
class DatasetConfig:
    """`[dataset]`: what the card says about the dataset."""

    name: str = "zh-local-news"
    pretty_name: str = "Chinese local newspapers"
    description: str = "Articles of Chinese local newspapers, cleaned of layout artefacts."
    homepage: str = ""
    license: str = "other"
    license_name: str = "publisher-copyright"
    licensing: str = "The articles' text is the copyright of its publishers."
    language_details: str = "zh-Hans-CN"
    task_categories: list[str] = field(default_factory=lambda: ["text-generation"])
    tags: list[str] = field(default_factory=lambda: ["news", "chinese"])
    source: str = "Pages of Chinese local newspapers."
    curation: str = "Articles were cleaned of layout artefacts and validated against the article schema."
    citation_author: str = "newsset contributors"


@dataclass(frozen=True)
class BuildConfig:
    """`[build]`: how the data files are cut (changing these changes the bytes of a release)."""

    max_shard_bytes: int = 256 * 1024 * 1024
    row_group_rows: int = 1000
    zstd_level: int = 3  # zstd's own default; 9 writes some 15 % less, five times slower
    # Fields whose Parquet columns are written plain, with no dictionary tried first: the body,
    # whose every value differs, fills none, and trying took a fifth of the Parquet writing.
    plain_fields: list[str] = field(default_factory=lambda: ["body"])


@dataclass(frozen=True)
class Config:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    build: BuildConfig = field(default_factory=BuildConfig)


SECTIONS: dict[str, type] = {"dataset": DatasetConfig, "build": BuildConfig}


def load_config(path: str | Path | None = None) -> Config:
    """The config in `path`, or in `newsset.toml` here; defaults when no path is given and none exists."""
    target = Path(path or CONFIG_FILE)
    if not target.is_file():
        if path is not None:
            raise ConfigError(f"{target}: no such config file")
        return Config()
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{target}: {err}") from err
    return parse_config(data, str(target))


def parse_config(data: dict[str, Any], origin: str = CONFIG_FILE) -> Config:
    """Check the keys and types of a parsed config and fill in the defaults."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{origin}: unknown section [{unknown[0]}] (known: {', '.join(SECTIONS)})")
    parts = {name: section(data.get(name, {}), cls, f"{origin}: [{name}]") for name, cls in SECTIONS.items()}
    config = Config(**parts)
    check_name(config.dataset.name, origin)
    check_fields(config.build.plain_fields, f"{origin}: [build] plain_fields")
    return config


def check_fields(names: list[str], where: str) -> None:
    """Each name is a field of the schema."""
    from builder import schema

    known = schema.field_names()
    for name in names:
        if name not in known:
            raise ConfigError(f"{where}: {name!r} is not a field of the schema (fields: {', '.join(known)})")


def section(values: Any, cls: type, where: str) -> Any:
    """One `[section]` as its dataclass, every key checked against the default's type."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table of 'key = value' lines")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where} unknown key '{key}' (known: {', '.join(sorted(known))})")
        expected = getattr(defaults, key)
        if not same_type(value, expected):
            raise ConfigError(f"{where} '{key}' must be {describe_type(expected)}, got {value!r}")
    return cls(**values)


def same_type(value: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if isinstance(expected, int):
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, type(expected))


def describe_type(expected: Any) -> str:
    if isinstance(expected, list):
        return "a list of strings"
    if isinstance(expected, int):
        return "a positive integer"
    return "a string"


def check_name(name: str, origin: str) -> None:
    """The dataset name is a folder name under dist/: lower-case letters, digits, - _ ."""
    if not name or not set(name) <= NAME_CHARS or name.startswith("."):
        raise ConfigError(
            f"{origin}: [dataset] name {name!r} must be lower-case letters, digits, '-', '_' or '.'"
        )
