"""Test settings and fixtures: no network, and scratch projects (a copy of the corpus with its own
dist/, CHANGELOG.md and newsset.toml) that the CLI builds into."""

from __future__ import annotations

import os

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before anything imports `datasets`
os.environ["HF_HUB_OFFLINE"] = "1"

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from builder import schema, sources
from builder.cli import cli
from builder.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> Result:
    """Run `newsset ARGS` in-process; an exception other than the exit is re-raised."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@dataclass
class Project:
    """A scratch copy of the repo's corpus and config, building into its own dist/."""

    root: Path

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def out(self) -> Path:
        return self.root / "dist"

    @property
    def changelog(self) -> Path:
        return self.root / "CHANGELOG.md"

    @property
    def config(self) -> Path:
        return self.root / "newsset.toml"

    @property
    def name(self) -> str:
        return load_config(self.config).dataset.name

    def release(self, version: str) -> Path:
        return self.out / self.name / version

    def options(self) -> list[str]:
        return [
            *("--articles", str(self.articles), "--out", str(self.out)),
            *("--changelog", str(self.changelog), "--config", str(self.config)),
        ]

    def build(self, *args: str) -> Result:
        return invoke("build", *self.options(), *args)

    def add_article(self, **fields: Any) -> Path:
        """Write a new article file (front matter in schema order) and return its path."""
        path = sources.article_path(self.articles, fields)
        sources.write_new(path, sources.to_markdown(fields, schema.field_names()))
        return path

    def article(self, record_id: str) -> Path:
        return next(self.articles.rglob(f"{record_id}.md"))

    def edit(self, record_id: str, old: str, new: str) -> None:
        path = self.article(record_id)
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def set_build(self, **settings: int) -> None:
        """Change `[build]` settings in the project's newsset.toml."""
        text = self.config.read_text(encoding="utf-8")
        for key, value in settings.items():
            start = text.index(f"\n{key} = ") + 1
            end = text.index("\n", start)
            text = text[:start] + f"{key} = {value}" + text[end:]
        self.config.write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def newsset() -> Callable[..., Result]:
    """`newsset(*args)`: run the CLI in-process."""
    return invoke


@pytest.fixture(scope="session")
def make_project() -> Callable[[Path], Project]:
    def make(root: Path) -> Project:
        shutil.copytree(ROOT / "articles", root / "articles")
        shutil.copyfile(ROOT / "newsset.toml", root / "newsset.toml")
        return Project(root)

    return make


@pytest.fixture
def project(make_project: Callable[[Path], Project], tmp_path: Path) -> Project:
    return make_project(tmp_path / "project")
