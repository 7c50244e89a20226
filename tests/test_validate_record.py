"""`validate_record`: what `newsset validate` says about an in-memory record, without a file."""

from __future__ import annotations

from pathlib import Path

from builder import schema, sources
from builder.validate import validate_record
from tests.conftest import diagnostics_of, valid_record


def test_a_valid_record_has_no_diagnostics() -> None:
    assert validate_record(valid_record()) == []


def test_same_diagnostics_as_validate_on_the_file_it_would_be(tmp_path: Path) -> None:
    record = valid_record(
        headline="努力续写,更多“春天的故事",  # half-width comma, unbalanced quote
        byline="记者",  # a role with no name
        section=None,  # a required field missing
        body="本报讯 昨天是全国第二十\n一个记者节。",
    )
    path = tmp_path / "article.md"
    path.write_text(sources.to_markdown(record, schema.field_names()), encoding="utf-8")
    in_memory = [d.as_dict() for d in validate_record(record, str(path))]
    assert {d["rule"] for d in in_memory} >= {"S001", "C202", "C203", "C106", "C205"}
    assert in_memory == diagnostics_of(path)
