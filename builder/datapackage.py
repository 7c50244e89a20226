"""Frictionless Data Package v2 (`datapackage.json`): the release for tabular data tools.

Each JSON Lines shard is a tabular resource with a Table Schema mapped from the article schema
(types, required fields, bounds, patterns, allowed values, primary key `id`), its byte count and
SHA-256. Each Parquet shard is listed with its byte count and SHA-256 as a file resource: the
frictionless library reads Parquet through pandas, which neither counts bytes nor hands lists
over as lists, so declaring the shard a table would fail its own check. The test suite runs
`frictionless validate` on the file.

Two concessions to frictionless-py 5, the reference implementation: `authors` says that its
items are objects with frictionless's `arrayItem` (it rejects the v2 `jsonSchema` constraint),
and the JSON Lines dialect names the columns twice, as v2 `itemKeys` and as frictionless's
`json.keys`, so that a line without an optional field still has every column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builder import build, hubcard, schema
from builder.config import DatasetConfig

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
TABLE_SCHEMA = "https://datapackage.org/profiles/2.0/tableschema.json"
TABLE_DIALECT = "https://datapackage.org/profiles/2.0/tabledialect.json"
MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "jsonl": "application/jsonl"}
CARD_PATH = "README.md"

TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
# JSON Schema keyword → Table Schema constraint, per Table Schema type
CONSTRAINTS = {
    "string": {"minLength": "minLength", "maxLength": "maxLength", "pattern": "pattern", "enum": "enum"},
    "integer": {"minimum": "minimum", "maximum": "maximum", "enum": "enum"},
    "number": {"minimum": "minimum", "maximum": "maximum", "enum": "enum"},
    "array": {"minItems": "minLength", "maxItems": "maxLength"},
    "object": {},
    "boolean": {},
    "date": {},
}


def table_type(spec: dict[str, Any]) -> str:
    """The Table Schema type of a JSON Schema node."""
    kind = spec.get("type")
    if kind == "string" and spec.get("format") == "date":
        return "date"
    if kind in ("array", "object"):
        return kind
    if kind in TYPES:
        return TYPES[kind]
    raise ValueError(f"no Table Schema type for JSON Schema type {kind!r}")


def xsd_pattern(pattern: str) -> str:
    """A JSON Schema pattern (a search) as a Table Schema one (matched against the whole value)."""
    if pattern.startswith("^") and pattern.endswith("$"):
        return pattern[1:-1]
    return f".*({pattern}).*"


def table_field(name: str, spec: dict[str, Any], required: bool) -> dict[str, Any]:
    """One Table Schema field from a JSON Schema property."""
    kind = table_type(spec)
    out: dict[str, Any] = {"name": name, "type": kind, "description": spec.get("description", "")}
    constraints: dict[str, Any] = {"required": True} if required else {}
    for keyword, constraint in CONSTRAINTS[kind].items():
        if keyword in spec:
            value = spec[keyword]
            constraints[constraint] = xsd_pattern(value) if keyword == "pattern" else value
    if kind == "array":
        out["arrayItem"] = {"type": table_type(spec.get("items", {}))}
    if constraints:
        out["constraints"] = constraints
    return out


def table_schema(schema_doc: dict[str, Any]) -> dict[str, Any]:
    """The Table Schema of the records: every field in schema order, `id` the primary key."""
    return {
        "$schema": TABLE_SCHEMA,
        "fields": [table_field(f.name, f.spec, f.required) for f in schema.fields(schema_doc)],
        "missingValues": [],
        "primaryKey": [schema.KEY_FIELD],
    }


def resource(release: Path, path: Path, suffix: str, schema_doc: dict[str, Any]) -> dict[str, Any]:
    name = path.relative_to(release).as_posix()
    out: dict[str, Any] = {
        "name": f"{path.stem}-{suffix}",
        "path": name,
        "format": suffix,
        "mediatype": MEDIA_TYPES[suffix],
    }
    if suffix == "jsonl":
        names = schema.field_names(schema_doc)
        out |= {
            "type": "table",
            "encoding": "utf-8",
            "dialect": {"$schema": TABLE_DIALECT, "itemKeys": names, "json": {"keys": names}},
            "schema": table_schema(schema_doc),
        }
    else:
        out |= {"type": "file", "description": f"The rows of {path.stem}.jsonl, as Parquet (zstd)."}
    return out | {"bytes": path.stat().st_size, "hash": f"sha256:{build.sha256(path)}"}


def derived(release: Path, schema_doc: dict[str, Any], version: str) -> dict[str, Any]:
    """The keys that the files, the schema and the version decide."""
    return {
        "$schema": PROFILE,
        "version": version,
        "resources": [
            resource(release, path, suffix, schema_doc)
            for suffix in ("jsonl", "parquet")
            for path in build.shard_files(release, suffix)
        ],
    }


def licenses(config: DatasetConfig) -> list[dict[str, str]]:
    """The card's license: its Hub id and name, or for `other` its name and the card's terms."""
    if config.license == "other":
        return [{"title": config.license_name, "path": CARD_PATH}]
    title = hubcard.known(hubcard.LICENSES_FILE).get(config.license, config.license)
    return [{"name": config.license, "title": title}]


def document(config: DatasetConfig, facts: dict[str, Any]) -> dict[str, Any]:
    """The whole descriptor: the config's words around the derived facts."""
    doc: dict[str, Any] = {
        "$schema": facts["$schema"],
        "name": config.name,
        "title": config.pretty_name,
        "description": config.description.strip(),
        "version": facts["version"],
        "licenses": licenses(config),
        "keywords": list(config.tags),
        "contributors": [{"title": config.citation_author, "roles": ["creator"]}],
    }
    if config.homepage:
        doc["homepage"] = config.homepage
    return doc | {"resources": facts["resources"]}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
