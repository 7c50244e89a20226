"""The schema file is the single source of truth; everything typed derives from it."""

from __future__ import annotations

import datasets
import pyarrow as pa

from builder import schema


def test_schema_is_draft_2020_12_and_closed() -> None:
    doc = schema.load()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["additionalProperties"] is False
    assert doc["properties"]["authors"]["items"]["additionalProperties"] is False
    assert set(doc["required"]) == {"id", "source", "date", "section", "headline", "body"}


def test_every_field_has_a_description_and_hint() -> None:
    for field in schema.fields():
        assert field.description, field.name
        assert field.hint, field.name
    for name, spec in schema.load()["properties"]["authors"]["items"]["properties"].items():
        assert spec["description"], name


def test_arrow_schema_types_come_from_the_json_schema() -> None:
    arrow = schema.arrow_schema()
    assert arrow.names == list(schema.load()["properties"])
    assert arrow.field("date").type == pa.date32()
    assert arrow.field("page").type == pa.int32()
    assert arrow.field("authors").type == pa.list_(pa.struct([("name", pa.string()), ("role", pa.string())]))
    assert arrow.field("body").type == pa.string()
    assert not arrow.field("id").nullable and arrow.field("kicker").nullable


def test_datasets_features_say_date32_and_list_of_structs() -> None:
    features = schema.features()
    assert features["date"] == datasets.Value("date32")
    assert features["page"] == datasets.Value("int32")
    authors = features["authors"]
    inner = authors.feature if hasattr(authors, "feature") else authors[0]
    assert inner == {"name": datasets.Value("string"), "role": datasets.Value("string")}


def test_validator_checks_real_calendar_dates() -> None:
    v = schema.validator()
    base = {
        "id": "pinghu-20200229-p01-01",
        "source": "今日平湖",
        "section": "要闻",
        "headline": "标题",
        "body": "正文",
    }
    assert not list(v.iter_errors({**base, "date": "2020-02-29"}))
    assert [e.validator for e in v.iter_errors({**base, "date": "2021-02-29"})] == ["format"]
