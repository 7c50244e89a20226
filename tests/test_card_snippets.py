"""The card's "How to load" snippets run as written and give back every row of the release."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from builder import schema
from tests.conftest import ROOT, committed_releases, parquet_rows

NEWEST = committed_releases()[-1]
SNIPPET = re.compile(r"^### (\S+)\n\n```python\n(.*?)\n```$", re.M | re.S)


def snippets(card: Path) -> dict[str, str]:
    """name → code of each snippet in the card's "How to load" section."""
    text = card.read_text(encoding="utf-8")
    section = text.split("\n## How to load\n", 1)[1].split("\n## ", 1)[0]
    return dict(SNIPPET.findall(section))


def rows_of(name: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """What a snippet loaded, as plain rows like pyarrow gives the Parquet ones."""
    if name == "datasets":
        return result["ds"].to_list()
    if name == "pandas":
        return pa.Table.from_pandas(result["df"], preserve_index=False).to_pylist()
    if name == "polars":
        return result["df"].to_dicts()
    return [dict(zip(schema.field_names(), row, strict=True)) for row in result["rows"]]


@pytest.fixture(params=["committed", "sharded"])
def where(request) -> tuple[Path, Path]:
    """(the folder the snippets run in, the release they load)."""
    if request.param == "committed":
        return ROOT, NEWEST
    project = request.getfixturevalue("sharded")
    return project.root, project.release("1.0.0")


def test_the_card_has_a_snippet_for_each_library():
    code = snippets(NEWEST / "README.md")
    assert list(code) == ["datasets", "pandas", "polars", "DuckDB"]
    assert f'datasets.load_dataset("dist/zh-local-news/{NEWEST.name}", split="train")' in code["datasets"]


@pytest.mark.parametrize("name", ["datasets", "pandas", "polars", "DuckDB"])
def test_each_snippet_loads_every_row(where, name, monkeypatch, tmp_path):
    import datasets

    root, release = where
    monkeypatch.chdir(root)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    namespace: dict[str, Any] = {}
    exec(compile(snippets(release / "README.md")[name], f"{release}/README.md:{name}", "exec"), namespace)
    assert rows_of(name, namespace) == parquet_rows(release)
