"""datapackage.json: a Data Package v2 that `frictionless validate` passes, whose Table Schema is
the article schema's and which catches rows that break it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from builder import build, schema
from tests.conftest import committed_releases, writable_copy

NEWEST = committed_releases()[-1]


@pytest.fixture(scope="module", params=["committed", "sharded"])
def release(request):
    return NEWEST if request.param == "committed" else request.getfixturevalue("sharded").release("1.0.0")


def frictionless_validate(folder) -> dict:
    command = [sys.executable, "-m", "frictionless", "validate", "--json", "datapackage.json"]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)
    return json.loads(result.stdout)


def test_frictionless_validate_passes(release):
    report = frictionless_validate(release)
    assert report["valid"] is True, json.dumps(report["tasks"], ensure_ascii=False)[:2000]
    shards = len(build.shard_files(release, "parquet"))
    assert sorted(t["place"] for t in report["tasks"]) == sorted(
        p.relative_to(release).as_posix() for p in (release / "data").iterdir()
    )
    tables = [t for t in report["tasks"] if t["type"] == "table"]
    assert len(tables) == shards
    assert sum(t["stats"]["rows"] for t in tables) == 6
    assert all(t["labels"] == schema.field_names() for t in tables)


def test_the_table_schema_is_mapped_from_the_article_schema(release):
    doc = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert doc["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert doc["version"] == release.name and doc["name"] == "zh-local-news"
    table = next(r for r in doc["resources"] if r["type"] == "table")
    fields = {f["name"]: f for f in table["schema"]["fields"]}
    assert list(fields) == schema.field_names()
    assert table["schema"]["primaryKey"] == ["id"]
    assert {n: f["type"] for n, f in fields.items()} == {
        "id": "string", "source": "string", "date": "date", "page": "integer", "section": "string",
        "kicker": "string", "headline": "string", "subheadline": "string", "byline": "string",
        "authors": "array", "body": "string",
    }  # fmt: skip
    required = {n for n, f in fields.items() if f.get("constraints", {}).get("required")}
    assert required == set(schema.load()["required"])
    assert fields["page"]["constraints"] == {"minimum": 1, "maximum": 9999}
    assert (
        fields["id"]["constraints"]["pattern"] == "[a-z][a-z0-9]*(-[a-z0-9]+)*-[0-9]{8}-[a-z0-9]+-[0-9]{2,}"
    )
    assert fields["authors"]["constraints"] == {"maxLength": 50}
    assert fields["authors"]["arrayItem"] == {"type": "object"}
    for r in doc["resources"]:
        path = release / r["path"]
        assert r["bytes"] == path.stat().st_size and r["hash"] == f"sha256:{build.sha256(path)}"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('"id":"pinghu-20201109-p01-02"', '"id":"Pinghu-20201109-p01-02"', "id"),
        ('"section":"要闻","headline":"努力', '"headline":"努力', "section"),
    ],
    ids=["pattern", "required"],
)
def test_frictionless_finds_a_row_that_breaks_the_schema(sharded, tmp_path, old, new, field):
    copy = writable_copy(sharded.release("1.0.0"), tmp_path / "release")
    shard = next(p for p in build.shard_files(copy, "jsonl") if old in p.read_text(encoding="utf-8"))
    shard.write_text(shard.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    descriptor = copy / "datapackage.json"
    doc = json.loads(descriptor.read_text(encoding="utf-8"))
    for r in doc["resources"]:
        if r["path"] == shard.relative_to(copy).as_posix():  # only the row should be wrong
            r["bytes"], r["hash"] = shard.stat().st_size, f"sha256:{build.sha256(shard)}"
    descriptor.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = frictionless_validate(copy)
    assert report["valid"] is False
    errors = [e for t in report["tasks"] for e in t["errors"]]
    assert [(e["type"], e["fieldName"]) for e in errors] == [("constraint-error", field)]
