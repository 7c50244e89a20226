"""Checking a release: its checksums, its records against its schema, its card against its files,
and whether the corpus rebuilds it byte for byte.

Each problem is a Diagnostic (rule ids R4xx, and the schema rules S0xx for records), so `verify`
reports like `validate` does. Nothing here raises on a damaged release: it reports.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from builder import build, card, croissant, datapackage, hubcard, layout, runs, schema
from builder.config import Config
from builder.diagnostics import Diagnostic
from builder.release import (
    SCHEMA_COPY,
    SUMS_FILE,
    ReleaseError,
    jobs_for,
    latest,
    parse_version,
    plan,
    read_checksums,
    release_files,
    release_schema,
    sha256,
    write_release,
)
from builder.sources import Source, file_diagnostic, iter_jsonl
from builder.validate import Report, schema_diagnostics


def problem(file: Path | str, rule: str, message: str, line: int = 1) -> Diagnostic:
    """A release problem at a file (and line), with the rule's own hint."""
    return file_diagnostic(str(file), rule, message, line=line)


def verify_release(release: str | os.PathLike[str]) -> Report:
    """Every check of one release folder; the report counts its files and Parquet rows."""
    folder = Path(release)
    report = Report(files=len(release_files(folder)))
    report.diagnostics += check_sums(folder)
    try:
        schema_doc = release_schema(folder)
        validator = schema.validator_of(schema_doc)
    except (OSError, ValueError, jsonschema.SchemaError) as err:
        report.diagnostics.append(
            problem(folder / SCHEMA_COPY, "R402", f"the release's schema cannot be read: {err}")
        )
        return report
    shards = build.shard_files(folder, "parquet")
    if not shards:
        report.diagnostics.append(
            problem(folder / build.DATA_DIR, "R402", "the release has no Parquet shards")
        )
        return report
    try:
        report.records = sum(pq.ParquetFile(path).metadata.num_rows for path in shards)
        found = check_data(folder, shards, schema_doc, validator)
    except (OSError, pa.ArrowException) as err:
        report.diagnostics.append(
            problem(folder / build.DATA_DIR, "R403", f"a Parquet shard cannot be read: {err}")
        )
        return report
    report.diagnostics += found
    report.diagnostics += check_card(folder, schema_doc)
    report.diagnostics += check_metadata(folder, schema_doc, shards)
    return report


def check_sums(folder: Path) -> list[Diagnostic]:
    """Every file listed with its hash, every listed file present and unchanged."""
    sums_path = folder / SUMS_FILE
    if not sums_path.is_file():
        return [problem(sums_path, "R402", "the release has no SHA256SUMS")]
    try:
        listed = read_checksums(sums_path)
    except (OSError, ValueError) as err:
        return [problem(sums_path, "R402", f"SHA256SUMS cannot be read: {err}")]
    present = set(release_files(folder)) - {SUMS_FILE}
    out = [
        problem(folder / n, "R402", f"{n} is not listed in SHA256SUMS")
        for n in sorted(present - listed.keys())
    ]
    for name, (digest, line) in sorted(listed.items()):
        if name not in present:
            out.append(problem(sums_path, "R402", f"{name} is listed but missing", line=line))
        elif sha256(folder / name) != digest:
            out.append(problem(folder / name, "R401", f"SHA-256 differs from {SUMS_FILE} line {line}"))
    return out


def check_data(
    folder: Path,
    shards: Sequence[Path],
    schema_doc: dict[str, Any],
    validator: jsonschema.protocols.Validator,
) -> list[Diagnostic]:
    """Types, every record against the schema, the JSONL twin of each shard, the row order.

    The shards are read a row group at a time, and each JSONL twin a line at a time beside them.
    """
    out: list[Diagnostic] = []
    expected = schema.arrow_schema(schema_doc)
    jsonl = build.shard_files(folder, "jsonl")
    if [p.stem for p in jsonl] != [p.stem for p in shards]:
        out.append(
            problem(folder / build.DATA_DIR, "R404", "the JSONL shards do not pair with the Parquet shards")
        )
    order = RowOrder()
    for path in shards:
        shard = pq.ParquetFile(path)
        wrong_types = type_differences(shard.schema_arrow, expected)
        if wrong_types:
            out.append(problem(path, "R403", wrong_types))
            continue
        twin = path.with_suffix(".jsonl")
        pairs = TwinCheck(twin, validator) if twin.is_file() else None
        for number, row in enumerate(shard_rows(shard), start=1):
            out += schema_diagnostics(Source(str(path), number, row), validator)
            order.add(build.sort_key(row))
            if pairs is not None:
                pairs.add(row)
        if pairs is not None:
            out += pairs.finish()
    if order.disorder is not None:
        row, key = order.disorder
        out.append(problem(folder / build.DATA_DIR, "R404", f"row {row} ({key[-1]}) is out of order"))
    return out


def shard_rows(shard: pq.ParquetFile) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet shard as plain records, one row group in memory at a time."""
    for group in range(shard.num_row_groups):
        yield from build.table_records(shard.read_row_group(group))


class RowOrder:
    """The first row whose sort key is below the one before it, over all shards in turn."""

    def __init__(self) -> None:
        self.previous: tuple[Any, ...] | None = None
        self.count = 0
        self.disorder: tuple[int, tuple[Any, ...]] | None = None

    def add(self, key: tuple[Any, ...]) -> None:
        self.count += 1
        if self.disorder is None and self.previous is not None and key < self.previous:
            self.disorder = (self.count, key)
        self.previous = key


def type_differences(found: pa.Schema, expected: pa.Schema) -> str:
    """The columns whose type or nullability differs from the schema's, in one line ("" if none).

    Types are compared as the card names them, so a list's inner field name does not count.
    """

    def column(arrow: pa.Schema, name: str) -> str:
        if name not in arrow.names:
            return "absent"
        f = arrow.field(name)
        return card.feature_label(f.type) + ("" if f.nullable else " not null")

    names = dict.fromkeys([*expected.names, *found.names])
    diffs = [
        f"{n} is {column(found, n)}, the schema gives {column(expected, n)}"
        for n in names
        if column(found, n) != column(expected, n)
    ]
    if not diffs and found.names != expected.names:
        diffs.append("the columns are not in the schema's order")
    return "; ".join(diffs)


class TwinCheck:
    """A JSONL shard read a line at a time beside the rows of its Parquet shard: its problems,
    its records against the schema, and the first record that differs from its row."""

    def __init__(self, path: Path, validator: jsonschema.protocols.Validator) -> None:
        self.path = path
        self.validator = validator
        self.items = iter_jsonl(str(path))
        self.problems: list[Diagnostic] = []
        self.schema: list[Diagnostic] = []
        self.count = 0
        self.difference: tuple[int, int] | None = None  # (record, line)

    def next_source(self) -> Source | None:
        for item in self.items:
            if isinstance(item, Diagnostic):
                self.problems.append(item)
                continue
            self.schema += schema_diagnostics(item, self.validator)
            return item
        return None

    def add(self, row: dict[str, Any]) -> None:
        src = self.next_source()
        if src is None:  # the JSONL ran out: the record after its last one differs
            if self.difference is None:
                self.difference = (self.count + 1, self.count + 1)
            return
        self.count += 1
        if self.difference is None and src.data != row:
            self.difference = (self.count, src.line)

    def finish(self) -> list[Diagnostic]:
        src = self.next_source()
        if src is not None and self.difference is None:  # the JSONL has more records
            self.difference = (self.count + 1, src.line)
        while self.next_source() is not None:
            pass
        out = self.problems + self.schema
        if self.difference is not None:
            at, line = self.difference
            message = f"record {at} differs from row {at} of the Parquet shard"
            out.append(problem(self.path, "R404", message, line=line))
        return out


def first_difference(a: Sequence[Any], b: Sequence[Any]) -> int:
    """The index of the first item where two sequences differ (the shorter length if one is a prefix)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def check_card(folder: Path, schema_doc: dict[str, Any]) -> list[Diagnostic]:
    """The card's YAML against what the files say: version, files, features, counts and sizes."""
    path = folder / card.CARD_FILE
    try:
        meta = card.read_metadata(path)
    except (OSError, ValueError) as err:
        return [problem(path, "R405", str(err))]
    expected = card.data_metadata(folder.name, card.measure(folder), schema_doc)
    text = path.read_text(encoding="utf-8")
    out = []
    for key, value in expected.items():
        parts = value.items() if key == "dataset_info" else [(None, value)]
        given = meta.get(key) if key != "dataset_info" else meta.get(key) or {}
        for sub, want in parts:
            have = given.get(sub) if sub else given
            if have != want:
                name = f"{key}.{sub}" if sub else key
                message = f"{name}: the card says {brief(have)}, the files give {brief(want)}"
                out.append(problem(path, "R405", message, line=yaml_line(text, key, sub)))
    return out


def brief(value: Any, width: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def yaml_line(text: str, key: str, sub: str | None = None) -> int:
    """The line of a top-level key (or of a key inside it) in the card's front matter."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), 0)
    if sub:
        start = next((i for i in range(start, len(lines)) if lines[i].startswith(f"  {sub}:")), start)
    return start + 1


# --- the Hub's rules, the release format, Croissant and Data Package ---------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.M | re.S)


def check_metadata(folder: Path, schema_doc: dict[str, Any], shards: Sequence[Path]) -> list[Diagnostic]:
    """The card's YAML against the Hub's documented rules and its links against the files; the
    files its release format requires; croissant.json and datapackage.json against the files."""
    path = folder / card.CARD_FILE
    try:
        meta = card.read_metadata(path)
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return []  # check_card reports it
    out = [problem(path, f.rule, f.message, line=yaml_line(text, f.key)) for f in hubcard.check(meta, folder)]
    out += check_links(path, text)
    found = layout.format_of(meta)
    if found is None:
        message = (
            f"{layout.FORMAT_KEY}: {brief(meta.get(layout.FORMAT_KEY))} is not a release format this "
            f"newsset knows (1 to {layout.RELEASE_FORMAT})"
        )
        return [*out, problem(path, "R417", message, line=yaml_line(text, layout.FORMAT_KEY))]
    out += [
        problem(folder / name, "R402", f"{name} is missing: release format {found} carries it")
        for name in layout.REQUIRED[found]
        if not (folder / name).is_file()
    ]
    if (folder / layout.CROISSANT_FILE).is_file():
        facts = croissant.derived(folder, schema_doc, folder.name, latest_date(shards))
        out += compare_json(folder / layout.CROISSANT_FILE, facts, "R414")
    if (folder / layout.DATAPACKAGE_FILE).is_file():
        out += compare_json(
            folder / layout.DATAPACKAGE_FILE, datapackage.derived(folder, schema_doc, folder.name), "R415"
        )
    return out


def check_links(path: Path, text: str) -> list[Diagnostic]:
    """Every relative link or image of the card's text names a file of the release."""
    body = FENCED.sub("", text)
    out = []
    for target in dict.fromkeys(LINK.findall(body)):
        name = target.split("#", 1)[0]
        if not name or "://" in name or name.startswith("mailto:"):
            continue
        if not hubcard.inside(name) or not (path.parent / name).is_file():
            line = text.count("\n", 0, text.index(f"]({target})")) + 1
            out.append(problem(path, "R416", f"the card links to {name}, which the release lacks", line=line))
    return out


def latest_date(shards: Sequence[Path]) -> str:
    """The date of the newest article: a release's datePublished (the date column read a row
    group at a time)."""
    latest = None
    for path in shards:
        shard = pq.ParquetFile(path)
        for group in range(shard.num_row_groups):
            found = pc.max(shard.read_row_group(group, columns=["date"]).column("date")).as_py()
            latest = found if latest is None or (found is not None and found > latest) else latest
    return latest.isoformat()


def compare_json(path: Path, expected: dict[str, Any], rule: str) -> list[Diagnostic]:
    """Each expected top-level key of a JSON file, reported at its first difference."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError) as err:
        return [problem(path, rule, f"{path.name} cannot be read: {err}")]
    if not isinstance(doc, dict):
        return [problem(path, rule, f"{path.name} is not a JSON object")]
    out = []
    for key, want in expected.items():
        where, have, should = json_difference(doc.get(key), want, key)
        if where is not None:
            line = next((i for i, ln in enumerate(text.split("\n"), 1) if ln.startswith(f'  "{key}":')), 1)
            message = f"{where}: {path.name} says {brief(have)}, the files give {brief(should)}"
            out.append(problem(path, rule, message, line=line))
    return out


def json_difference(have: Any, want: Any, where: str) -> tuple[str | None, Any, Any]:
    """The path of the first place where two JSON values differ, and the values there."""
    if have == want:
        return None, have, want
    if isinstance(have, dict) and isinstance(want, dict):
        for key in dict.fromkeys([*want, *have]):
            found = json_difference(have.get(key), want.get(key), f"{where}.{key}")
            if found[0] is not None:
                return found
    if isinstance(have, list) and isinstance(want, list) and len(have) == len(want):
        for i, (a, b) in enumerate(zip(have, want, strict=True)):
            found = json_difference(a, b, f"{where}[{i}]")
            if found[0] is not None:
                return found
    return where, have, want


# --- reproduction ------------------------------------------------------------------------


def check_reproduces(
    release: str | os.PathLike[str],
    articles: Sequence[str | os.PathLike[str]],
    config: Config | None = None,
    changelog: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
) -> Report:
    """Rebuild a release from the corpus in a temporary folder and compare every byte.

    The rebuild compares with the release before it, as the original build did, so only the
    newest release is expected to match the current corpus.
    """
    folder = Path(release)
    config = config or Config()
    with runs.stage(articles, jobs) as corpus:
        report = corpus.report
        if report.errors:
            return report
        if not corpus.count:
            raise ReleaseError("no articles found to build from")
        version = parse_version(folder.name)
        todo = plan(corpus, latest(folder.parent, below=version), folder.name, force=True, jobs=jobs)
        with tempfile.TemporaryDirectory(prefix="newsset-check-") as tmp:
            rebuilt = Path(tmp) / folder.name
            write_release(rebuilt, todo, config, jobs_for(jobs, corpus))
            report.diagnostics += compare_trees(folder, rebuilt)
    report.diagnostics += check_toolchain(folder)
    if changelog is not None:
        report.diagnostics += check_changelog(Path(changelog), todo.entry())
    return report


def compare_trees(release: Path, rebuilt: Path) -> list[Diagnostic]:
    mine, theirs = set(release_files(release)), set(release_files(rebuilt))
    out = [problem(release / n, "R402", f"the rebuild has no {n}") for n in sorted(mine - theirs)]
    out += [
        problem(release / n, "R402", f"the rebuild writes {n}, the release lacks it")
        for n in sorted(theirs - mine)
    ]
    for name in sorted(mine & theirs):
        found = file_difference(release / name, rebuilt / name)
        if found is not None:
            at, line = found
            sizes = f"{(release / name).stat().st_size} vs {(rebuilt / name).stat().st_size} bytes"
            message = f"the rebuild differs from byte {at} on (line {line}; {sizes})"
            out.append(problem(release / name, "R406", message, line=line))
    return out


def file_difference(a: Path, b: Path, block: int = 1 << 20) -> tuple[int, int] | None:
    """(byte, line) of the first difference between two files, read a block at a time; None if
    they are equal."""
    at, newlines = 0, 0
    with a.open("rb") as one, b.open("rb") as two:
        while True:
            x, y = one.read(block), two.read(block)
            if x != y:
                i = first_difference(x, y)
                return at + i, newlines + x.count(b"\n", 0, i) + 1
            if not x:
                return None
            at += len(x)
            newlines += x.count(b"\n")


def check_toolchain(release: Path) -> list[Diagnostic]:
    try:
        recorded = card.read_metadata(release / card.CARD_FILE).get("built_with")
    except (OSError, ValueError):
        return []
    current = card.toolchain()
    if recorded == current:
        return []
    return [
        problem(
            release / card.CARD_FILE,
            "R408",
            f"the release was built with {brief(recorded)}, this rebuild uses {brief(current)}",
        )
    ]


def check_changelog(path: Path, entry: str) -> list[Diagnostic]:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if entry in text:
        return []
    heading = entry.splitlines()[0]
    return [problem(path, "R407", f"no entry '{heading}' as the build writes it")]
