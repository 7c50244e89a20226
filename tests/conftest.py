"""Shared test setup: offline Hugging Face libraries, the repo's paths, article helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

from builder import schema, sources
from builder.cli import cli

REPO = Path(__file__).resolve().parent.parent
ARTICLES = REPO / "articles"
RAW_PAGE = REPO / "raw" / "pinghu" / "2020" / "11" / "09" / "p01.txt"


def run(*args: str, input: str | None = None) -> Result:
    """Run the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


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
