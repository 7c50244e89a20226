"""Shared test setup: offline Hugging Face libraries, the repo's paths, article helpers, and
scratch projects (a copy of the corpus with its own dist/, CHANGELOG.md and newsset.toml)."""

from __future__ import annotations

import os

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before anything imports `datasets`
os.environ["HF_HUB_OFFLINE"] = "1"

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from builder import schema, sources
from builder.cli import cli
from builder.config import load_config

settings.register_profile("newsset", deadline=None, print_blob=True)
settings.load_profile("newsset")

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO
ARTICLES = REPO / "articles"
RAW_PAGE = REPO / "raw" / "pinghu" / "2020" / "11" / "09" / "p01.txt"


def run(*args: str, input: str | None = None) -> Result:
    """Run `newsset ARGS` in-process; stdout and stderr are kept apart, exceptions propagate."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


invoke = run


def valid_record(**changes: Any) -> dict[str, Any]:
    """A valid record, from the first article of the bundled corpus, with changes applied.

    A change to None removes the field.
    """
    result = sources.read_path(ARTICLES / "2020/11/09/pinghu-20201109-p01-02.md")
    record = dict(result.sources[0].data)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def write_md(folder: Path, record: dict[str, Any], name: str | None = None) -> Path:
    path = folder / (name or f"{record.get('id', 'article')}.md")
    path.write_text(sources.to_markdown(record, schema.field_names()), encoding="utf-8")
    return path


def write_jsonl(folder: Path, records: list[dict[str, Any]], name: str = "batch.jsonl") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def diagnostics_of(*paths: Path | str, strict: bool = False) -> list[dict[str, Any]]:
    """Validate through the CLI with --format json and return the diagnostics."""
    args = ["validate", *map(str, paths), "--format", "json"] + (["--strict"] if strict else [])
    result = run(*args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["diagnostics"]


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "articles"
    for path in ARTICLES.rglob("*.md"):
        dest = target / path.relative_to(ARTICLES)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
    return target


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


@pytest.fixture
def repo() -> Path:
    return REPO


SHARD_BYTES = 8000  # small enough that the six seed articles need several shards


@pytest.fixture(scope="session")
def sharded(make_project, tmp_path_factory) -> Project:
    """A project whose release 1.0.0 (read-only, shared) is cut into several small shards."""
    project = make_project(tmp_path_factory.mktemp("sharded") / "project")
    project.set_build(max_shard_bytes=SHARD_BYTES)
    result = project.build()
    assert result.exit_code == 0, result.output
    assert len(list((project.release("1.0.0") / "data").glob("*.parquet"))) > 1
    return project


def committed_releases() -> list[Path]:
    """The releases committed under dist/, oldest first."""
    from builder.release import releases

    return [
        path
        for folder in sorted((ROOT / "dist").iterdir())
        if folder.is_dir()
        for _, path in releases(folder)
    ]


def parquet_rows(release: Path) -> list[dict[str, Any]]:
    """Every row of a release's Parquet shards, as pyarrow gives them (dates as dates, nulls as None)."""
    from builder import build

    return build.read_table(release).to_pylist()


def writable_copy(release: Path, dest: Path) -> Path:
    """A copy of a (read-only) release that a test may edit."""
    shutil.copytree(release, dest)
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def reseal(release: Path) -> None:
    """Rewrite SHA256SUMS to match the files, as someone hiding an edit would."""
    from builder.release import checksums

    sums = release / "SHA256SUMS"
    sums.chmod(0o644)
    sums.write_text(checksums(release), encoding="utf-8")
