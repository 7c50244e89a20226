"""croissant.json: valid Croissant 1.1 for mlcroissant, offline, and its records are the Parquet rows.

mlcroissant is slow to import and to run, so each release is validated and loaded once per module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builder import build, schema
from tests.conftest import committed_releases, parquet_rows

NEWEST = committed_releases()[-1]
# Any HTTP request through a proxy-aware client fails at once instead of reaching out.
NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def mlcroissant_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mlcroissant ARGS` with no way out to the network."""
    env = {**os.environ, **NO_NETWORK, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [sys.executable, "-c", "from mlcroissant.scripts.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def no_sockets(monkeypatch):
    """Fail any attempt to open a network connection in this process."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def loaded_records(croissant: Path) -> tuple[list[dict[str, Any]], Any]:
    """The records of the release's record set as mlcroissant reads them, and its issues."""
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=str(croissant))
    return list(dataset.records(record_set="articles")), dataset.metadata.ctx.issues


def plain(value: Any) -> Any:
    """mlcroissant's values as Python ones: text comes as UTF-8 bytes, dates as Timestamps."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def as_row(record: dict[str, Any]) -> dict[str, Any]:
    """A Croissant record keyed by field name, as pyarrow gives the Parquet row."""
    row = {}
    for key, value in record.items():
        name = key.removeprefix("articles/")
        if isinstance(value, list):
            items = [{k.rsplit("/", 1)[1]: plain(v) for k, v in item.items()} for item in value]
            # mlcroissant gives a null list of records as one record of nulls
            value = None if all(v is None for item in items for v in item.values()) else items
        row[name] = plain(value)
    return row


@pytest.fixture(scope="module", params=["committed", "sharded"])
def release(request) -> Path:
    return NEWEST if request.param == "committed" else request.getfixturevalue("sharded").release("1.0.0")


def test_mlcroissant_validate_passes_offline(release):
    result = mlcroissant_cli("validate", "--jsonld", "croissant.json", cwd=release)
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if line[:1] in ("W", "E")]
    assert problems == [], result.stderr
    assert result.stderr.rstrip().endswith("Done.")


def test_mlcroissant_load_reads_every_record(release):
    result = mlcroissant_cli(
        "load", "--jsonld", "croissant.json", "--record_set", "articles", "--num_records", "-1", cwd=release
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Generating all records from croissant.json."
    assert lines[-1] == "Done."
    assert len(lines) - 2 == len(parquet_rows(release)) == 6


def test_loaded_records_equal_the_parquet_rows(release, no_sockets):
    records, issues = loaded_records(release / "croissant.json")
    assert issues.errors == set() and issues.warnings == set()
    rows = parquet_rows(release)
    assert sorted((as_row(r) for r in records), key=build.sort_key) == rows
    assert isinstance(rows[0]["date"], dt.date) and rows[1]["authors"][1] == {
        "name": "王强",
        "role": "photographer",
    }


def test_the_description_is_derived_from_the_schema_and_the_files(release):
    doc = json.loads((release / "croissant.json").read_text(encoding="utf-8"))
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    assert doc["version"] == release.name
    assert doc["datePublished"] == max(str(r["date"]) for r in parquet_rows(release)) == "2020-11-09"
    files = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    data = sorted(p.relative_to(release).as_posix() for p in (release / "data").iterdir())
    assert sorted(f["contentUrl"] for f in files) == data
    for f in files:
        path = release / f["contentUrl"]
        assert f["sha256"] == build.sha256(path) and f["contentSize"] == f"{path.stat().st_size} B"
        assert (
            f["encodingFormat"]
            == {".parquet": "application/x-parquet", ".jsonl": "application/jsonlines"}[path.suffix]
        )
    (records,) = doc["recordSet"]
    assert [f["name"] for f in records["field"]] == schema.field_names()
    assert records["key"] == {"@id": "articles/id"}
    types = {f["name"]: f.get("dataType") for f in records["field"]}
    assert types == {
        "id": "sc:Text", "source": "sc:Text", "date": "sc:Date", "page": "cr:Int32", "section": "sc:Text",
        "kicker": "sc:Text", "headline": "sc:Text", "subheadline": "sc:Text", "byline": "sc:Text",
        "authors": None, "body": "sc:Text",
    }  # fmt: skip
    authors = next(f for f in records["field"] if f["name"] == "authors")
    assert authors["isArray"] is True
    assert [(s["name"], s["dataType"], s["source"]["transform"]) for s in authors["subField"]] == [
        ("name", "sc:Text", {"jsonPath": "name"}),
        ("role", "sc:Text", {"jsonPath": "role"}),
    ]
    assert (
        authors["subField"][1]["description"]
        == schema.load()["properties"]["authors"]["items"]["properties"]["role"]["description"]
    )
    for key in ("name", "description", "license", "url", "creator", "inLanguage", "keywords", "citeAs"):
        assert doc[key], key
