"""The article schema: loaded from `schema/article.schema.json`, never re-declared.

Everything typed in the project comes from that one file: the JSON Schema validator, the Arrow
schema of the Parquet files, the `datasets` Features of the card, and the field table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `newsset validate` of a clean corpus needs neither
    import jsonschema
    import pyarrow as pa

SCHEMA_FILE = "article.schema.json"
# The field that identifies a record: unique in a corpus (rule D301) and the key of a release's
# Croissant record set and Data Package tables.
KEY_FIELD = "id"


def schema_path() -> Path:
    """The schema file: the repo's `schema/` in a checkout, the packaged copy when installed."""
    repo = Path(__file__).resolve().parent.parent / "schema" / SCHEMA_FILE
    if repo.is_file():
        return repo
    return Path(str(resources.files("builder") / "data" / SCHEMA_FILE))


@cache
def load(path: str | None = None) -> dict[str, Any]:
    """The article schema as a dict (cached: the file is read once per process)."""
    return json.loads(Path(path or schema_path()).read_text(encoding="utf-8"))


@cache
def validator(path: str | None = None) -> jsonschema.protocols.Validator:
    """A compiled Draft 2020-12 validator that also checks `format` (real calendar dates)."""
    return validator_of(load(path))


def validator_of(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """The validator of a schema given as a dict (e.g. a release's own copy); SchemaError if invalid."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@cache
def fast_validator(path: str | None = None) -> Any:
    """A compiled validator (jsonschema-rs) that only answers valid or not; None if absent.

    It is a screen: a record it passes is valid, one it fails goes to `validator()` for the
    precise errors. The test suite checks that both agree.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional speed-up
        return None
    return jsonschema_rs.validator_for(load(path), validate_formats=True)


@dataclass(frozen=True)
class Field:
    """One top-level field of the record, as the schema describes it."""

    name: str
    spec: dict[str, Any]
    required: bool

    @property
    def description(self) -> str:
        return self.spec.get("description", "")

    @property
    def hint(self) -> str:
        return self.spec.get("x-hint", "")

    @property
    def type_label(self) -> str:
        """Short type for people: `string`, `date`, `list<{name, role}>`."""
        return _type_label(self.spec)


def fields(schema: dict[str, Any] | None = None) -> list[Field]:
    """The record's fields in schema order."""
    schema = schema or load()
    required = set(schema.get("required", []))
    return [Field(name, spec, name in required) for name, spec in schema["properties"].items()]


def field_names(schema: dict[str, Any] | None = None) -> list[str]:
    return [f.name for f in fields(schema)]


def _type_label(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if kind == "string" and spec.get("format") == "date":
        return "date"
    if kind == "array":
        return f"list<{_type_label(spec.get('items', {}))}>"
    if kind == "object":
        return "{" + ", ".join(spec.get("properties", {})) + "}"
    return str(kind)


def arrow_type(spec: dict[str, Any]) -> pa.DataType:
    """The Arrow type of one JSON Schema node."""
    import pyarrow as pa

    kind = spec.get("type")
    if kind == "string":
        return pa.date32() if spec.get("format") == "date" else pa.string()
    if kind == "integer":
        return pa.int32()
    if kind == "number":
        return pa.float64()
    if kind == "boolean":
        return pa.bool_()
    if kind == "array":
        return pa.list_(arrow_type(spec["items"]))
    if kind == "object":
        return pa.struct([pa.field(n, arrow_type(s)) for n, s in spec["properties"].items()])
    raise ValueError(f"no Arrow type for JSON Schema type {kind!r}")


def arrow_schema(schema: dict[str, Any] | None = None) -> pa.Schema:
    """The Arrow schema of the dataset's tables, fields in schema order."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, arrow_type(f.spec), nullable=not f.required) for f in fields(schema)])


def features(schema: dict[str, Any] | None = None) -> Any:
    """The `datasets.Features` of the dataset, derived through the Arrow schema."""
    import datasets

    return datasets.Features.from_arrow_schema(arrow_schema(schema))


def nested_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """The properties of an object node or of an array of objects."""
    if spec.get("type") == "array":
        spec = spec.get("items", {})
    return spec.get("properties", {})


def field_table(schema: dict[str, Any] | None = None) -> str:
    """The record's fields as a Markdown table, for the README and the dataset card."""
    rows = ["| field | required | type | what it is |", "|---|---|---|---|"]
    rows += [
        f"| `{f.name}` | {'yes' if f.required else ''} | {f.type_label} | {f.description} |"
        for f in fields(schema)
    ]
    return "\n".join(rows)
