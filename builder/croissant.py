"""Croissant 1.1 metadata (`croissant.json`): the release as JSON-LD for ML data loaders.

The record structure comes from the article schema: one RecordSet whose fields are the schema's
fields with their Arrow types as Croissant data types, a list of records (`authors`) as an array
field with subFields. Every data file is a FileObject with its real SHA-256 and size; the records
are read from the Parquet shards through a FileSet. datePublished is the date of the newest
article, never the day of the build. `url` is the homepage, or the card (`README.md`) beside the
file when the dataset has none. The test suite checks the file with `mlcroissant validate` and
reads the records back with `mlcroissant load`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from builder import build, card, hubcard, schema
from builder.config import DatasetConfig

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
RECORD_SET = "articles"
PARQUET_SET = "parquet-files"
MEDIA_TYPES = {"parquet": "application/x-parquet", "jsonl": "application/jsonlines"}
CARD_URL = "README.md"
# The Croissant 1.1 context (the spec's Appendix 1 and the terms mlcroissant 1.1 expects).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "excludes": "cr:excludes",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "readLines": "cr:readLines",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "unArchive": "cr:unArchive",
    "value": "cr:value",
}


# Arrow type test → Croissant data type, for the types the schema derives
DATA_TYPES = [
    (pa.types.is_string, "sc:Text"),
    (pa.types.is_date32, "sc:Date"),
    (pa.types.is_boolean, "sc:Boolean"),
    (pa.types.is_int32, "cr:Int32"),
    (pa.types.is_int64, "cr:Int64"),
    (pa.types.is_float64, "cr:Float64"),
]


def data_type(kind: pa.DataType) -> str:
    """The Croissant data type of an Arrow type of the schema."""
    found = next((name for test, name in DATA_TYPES if test(kind)), None)
    if found is None:
        raise ValueError(f"no Croissant data type for Arrow type {kind}")
    return found


def source(column: str, json_path: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"fileSet": {"@id": PARQUET_SET}, "extract": {"column": column}}
    if json_path:
        out["transform"] = {"jsonPath": json_path}
    return out


def field(name: str, spec: dict[str, Any], kind: pa.DataType) -> dict[str, Any]:
    """A Field for one column; a struct (or a list of structs) gets a subField per member."""
    node: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{RECORD_SET}/{name}",
        "name": name,
        "description": spec.get("description", ""),
    }
    inner = kind.value_type if pa.types.is_list(kind) else kind
    if pa.types.is_list(kind):
        node["isArray"] = True
    if not pa.types.is_struct(inner):
        return node | {"dataType": data_type(inner), "source": source(name)}
    members = schema.nested_properties(spec)
    node["subField"] = [
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/{name}/{member.name}",
            "name": member.name,
            "description": members.get(member.name, {}).get("description", ""),
            "dataType": data_type(member.type),
            "source": source(name, member.name),
        }
        for member in inner
    ]
    return node


def record_set(schema_doc: dict[str, Any]) -> dict[str, Any]:
    """The one RecordSet: a record per article, keyed by its id, fields in schema order."""
    arrow = schema.arrow_schema(schema_doc)
    return {
        "@type": "cr:RecordSet",
        "@id": RECORD_SET,
        "name": RECORD_SET,
        "description": schema_doc.get("description", ""),
        "key": {"@id": f"{RECORD_SET}/{schema.KEY_FIELD}"},
        "field": [field(f.name, f.spec, arrow.field(f.name).type) for f in schema.fields(schema_doc)],
    }


def file_object(release: Path, path: Path, suffix: str) -> dict[str, Any]:
    name = path.relative_to(release).as_posix()
    return {
        "@type": "cr:FileObject",
        "@id": name,
        "name": name,
        "contentUrl": name,
        "encodingFormat": MEDIA_TYPES[suffix],
        "contentSize": f"{path.stat().st_size} B",
        "sha256": build.sha256(path),
    }


def distribution(release: Path) -> list[dict[str, Any]]:
    """A FileObject per data file, then the FileSet of the Parquet shards the records come from."""
    files = [
        file_object(release, path, suffix)
        for suffix in ("parquet", "jsonl")
        for path in build.shard_files(release, suffix)
    ]
    files.append(
        {
            "@type": "cr:FileSet",
            "@id": PARQUET_SET,
            "name": PARQUET_SET,
            "description": "The Parquet shards, which hold every record (as the JSON Lines ones do).",
            "encodingFormat": MEDIA_TYPES["parquet"],
            "includes": f"{build.DATA_DIR}/{build.SPLIT}-*.parquet",
        }
    )
    return files


def derived(release: Path, schema_doc: dict[str, Any], version: str, published: str) -> dict[str, Any]:
    """The keys that the files, the schema, the version and the data's date decide."""
    return {
        "@context": CONTEXT,
        "conformsTo": CONFORMS_TO,
        "version": version,
        "datePublished": published,
        "distribution": distribution(release),
        "recordSet": [record_set(schema_doc)],
    }


def license_node(config: DatasetConfig) -> dict[str, Any]:
    """The card's license as a schema.org CreativeWork (its own terms when it is `other`)."""
    if config.license == "other":
        terms = config.licensing.strip()
        return {"@type": "sc:CreativeWork", "name": config.license_name, "description": terms}
    title = hubcard.known(hubcard.LICENSES_FILE).get(config.license, config.license)
    return {"@type": "sc:CreativeWork", "name": title, "identifier": config.license}


def document(config: DatasetConfig, facts: dict[str, Any], citation: str) -> dict[str, Any]:
    """The whole Croissant description: the config's words around the derived facts."""
    return {
        "@context": facts["@context"],
        "@type": "sc:Dataset",
        "conformsTo": facts["conformsTo"],
        "name": config.name,
        "alternateName": config.pretty_name,
        "description": config.description.strip(),
        "license": license_node(config),
        "url": config.homepage or CARD_URL,
        "creator": {"@type": "sc:Organization", "name": config.citation_author},
        "version": facts["version"],
        "datePublished": facts["datePublished"],
        "inLanguage": config.language_details or card.LANGUAGES,
        "keywords": list(config.tags),
        "citeAs": citation,
        "distribution": facts["distribution"],
        "recordSet": facts["recordSet"],
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
