"""The dataset card: README.md with Hugging Face YAML, filled from the schema, the data and the config.

The YAML says exactly what the files contain (`configs` → the Parquet shards, `dataset_info` →
features, split sizes and byte counts), so `datasets.load_dataset(<release>)` needs no loading
script. The part of the YAML derived from the files is `data_metadata`; `verify` recomputes it
and compares.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from builder import build, layout, plots, schema
from builder.config import DatasetConfig
from builder.hubcard import size_category
from builder.lengths import Lengths

CARD_FILE = "README.md"
FENCE = "---"
LANGUAGES = ["zh"]


@dataclass(frozen=True)
class DataInfo:
    """What the data files of a release hold, measured from the files themselves."""

    parquet: list[str]
    jsonl: list[str]
    num_examples: int
    num_bytes: int
    download_size: int


def measure(release: Path, shards: Sequence[tuple[Path, pa.Table]] | None = None) -> DataInfo:
    """Sizes and counts of a release's data files (paths relative to the release).

    `num_bytes` is the Arrow size of the tables in memory, as `datasets` counts a split. Without
    `shards` the files are read a batch at a time, never whole.
    """
    paths = [p for p, _ in shards] if shards is not None else build.shard_files(release, "parquet")
    if shards is not None:
        sizes: Iterable[tuple[int, int]] = [(t.num_rows, t.nbytes) for _, t in shards]
    else:
        sizes = map(known_arrow_size, paths)
    rows, nbytes = (sum(column) for column in zip(*sizes, strict=True)) if paths else (0, 0)
    return DataInfo(
        parquet=[p.relative_to(release).as_posix() for p in paths],
        jsonl=[p.relative_to(release).as_posix() for p in build.shard_files(release, "jsonl")],
        num_examples=rows,
        num_bytes=nbytes,
        download_size=sum(p.stat().st_size for p in paths),
    )


def known_arrow_size(path: Path) -> tuple[int, int]:
    """`arrow_size`, as the shard's writer measured it when it is known (build.known_files)."""
    facts = build.known(path)
    return (facts.rows, facts.arrow_bytes) if facts is not None and facts.rows else arrow_size(path)


def arrow_size(path: Path, measured: int | None = None) -> tuple[int, int]:
    """Rows and Arrow bytes of one Parquet file, as `pq.read_table(path)` would hold it.

    That reader cuts each row group into batches of at most SCAN_BATCH rows; the same cuts are
    read here one at a time, so the sum of their sizes is the size of that table while one batch
    is held. (`pyarrow.dataset`, which would cut them for us, imports pandas: some 100 MB in
    every shard writer.) `measured`, when given, is the size of the measured columns, which the
    shard's writer counted as it wrote them (`measured_bytes`): only the other, small, columns
    are read back, not the body.
    """
    rows = nbytes = 0
    with pq.ParquetFile(path, pre_buffer=False) as parquet:
        columns = None
        if measured is not None:
            columns = [f.name for f in parquet.schema_arrow if not is_measured(f)]
            nbytes = measured
            if not columns:
                return parquet.metadata.num_rows, nbytes
        for group in range(parquet.num_row_groups):
            batches = parquet.iter_batches(SCAN_BATCH, row_groups=[group], columns=columns, use_threads=False)
            for batch in batches:
                rows += batch.num_rows
                nbytes += batch.nbytes
                del batch
                pa.default_memory_pool().release_unused()
    return rows, nbytes


def is_measured(field: pa.Field) -> bool:
    """A column whose size the writer counts: one that cannot be null and is not nested. The
    Parquet reader holds such a column with no validity bitmap and in the buffers the writer
    had; which bitmaps it gives the others depends on their nulls, so those are read back."""
    return not field.nullable and not pa.types.is_nested(field.type)


def measured_bytes(table: pa.Table) -> int:
    """The Arrow bytes of a written table's measured columns (`is_measured`) as the Parquet
    reader will hold them: without a validity bitmap. Their size is the same however the rows
    are cut into batches (4 bytes a row of offsets or values, and the strings' bytes), so the
    reader's batches need not be followed."""
    total = 0
    for field, column in zip(table.schema, table.columns, strict=True):
        if is_measured(field):
            total += sum(without_validity(chunk).nbytes for chunk in column.chunks)
    return total


def without_validity(array: pa.Array) -> pa.Array:
    """A flat array with no nulls, without its validity bitmap (no copy)."""
    if array.buffers()[0] is None:
        return array
    return pa.Array.from_buffers(array.type, len(array), [None, *array.buffers()[1:]], offset=array.offset)


SCAN_BATCH = 131_072  # rows per batch of the dataset scanner that pq.read_table reads with


def dataset_info(info: DataInfo, schema_doc: dict[str, Any]) -> dict[str, Any]:
    """The `dataset_info` block as `datasets` writes it (`DatasetInfosDict.to_dataset_card_data`):
    features, splits, sizes. Written here from the Arrow schema, in the form of the `datasets`
    named in `built_with`, which the test suite holds it to, so that a build does not import
    `datasets` (a second of imports, and of tearing them down at exit)."""
    return {
        "features": features_yaml(schema.arrow_schema(schema_doc)),
        "splits": [{"name": build.SPLIT, "num_bytes": info.num_bytes, "num_examples": info.num_examples}],
        "download_size": info.download_size,
        "dataset_size": info.num_bytes,
    }


# The `datasets` dtype of each Arrow type that `schema.arrow_type` gives.
DTYPES = {
    pa.string(): "string",
    pa.date32(): "date32",
    pa.int32(): "int32",
    pa.float64(): "float64",
    pa.bool_(): "bool",
}


def features_yaml(arrow_schema: pa.Schema) -> list[dict[str, Any]]:
    """The `features` list of the card's YAML: what `datasets.Features.from_arrow_schema(...)`
    writes there (`Features._to_yaml_list`)."""
    return [{"name": f.name, **feature_yaml(f.type)} for f in arrow_schema]


def feature_yaml(arrow_type: pa.DataType) -> dict[str, Any]:
    """One feature: {"dtype": ...}, {"struct": [fields]}, or {"list": ...}, where a list of a
    plain value or of a struct is written shorter, as `datasets` does."""
    if pa.types.is_struct(arrow_type):
        return {"struct": [{"name": f.name, **feature_yaml(f.type)} for f in arrow_type]}
    if pa.types.is_list(arrow_type):
        inner: Any = feature_yaml(arrow_type.value_type)
        if list(inner) in (["dtype"], ["struct"]):
            inner = next(iter(inner.values()))
        return {"list": inner}
    if arrow_type not in DTYPES:
        raise ValueError(f"no datasets dtype for the Arrow type {arrow_type}")
    return {"dtype": DTYPES[arrow_type]}


def data_metadata(version: str, info: DataInfo, schema_doc: dict[str, Any]) -> dict[str, Any]:
    """The YAML keys that the files decide; `verify` checks each against the files."""
    return {
        "size_categories": [size_category(info.num_examples)],
        "version": version,
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": build.SPLIT, "path": info.parquet}],
            }
        ],
        "dataset_info": dataset_info(info, schema_doc),
    }


def metadata(
    config: DatasetConfig, version: str, info: DataInfo, schema_doc: dict[str, Any]
) -> dict[str, Any]:
    """The card's whole YAML: the config's settings, then what the files decide."""
    data = data_metadata(version, info, schema_doc)
    head: dict[str, Any] = {"pretty_name": config.pretty_name, "license": config.license}
    if config.license == "other":
        head["license_name"] = config.license_name
    head |= {
        "language": list(LANGUAGES),
        "language_details": config.language_details,
        "task_categories": list(config.task_categories),
        "size_categories": data.pop("size_categories"),
        "tags": list(config.tags),
    }
    return head | data | {layout.FORMAT_KEY: layout.RELEASE_FORMAT, "built_with": toolchain()}


def toolchain() -> dict[str, str]:
    """The versions that decide the bytes of the Parquet files, the card's features block (in the
    form of this `datasets`, `dataset_info`) and the plots (matplotlib draws them, Pillow
    compresses the PNG)."""
    import matplotlib
    import PIL

    return {
        "pyarrow": pa.__version__,
        "datasets": importlib.metadata.version("datasets"),
        "matplotlib": matplotlib.__version__,
        "pillow": PIL.__version__,
    }


def render(
    config: DatasetConfig,
    version: str,
    info: DataInfo,
    schema_doc: dict[str, Any],
    stats: Stats,
    changelog: str,
) -> str:
    """The whole card: YAML front matter, then the sections of the Hugging Face card template."""
    meta = yaml.safe_dump(
        metadata(config, version, info, schema_doc), allow_unicode=True, sort_keys=False, width=1000
    )
    arrow = schema.arrow_schema(schema_doc)
    parts = [
        f"{FENCE}\n{meta}{FENCE}",
        f"# {config.pretty_name}",
        summary(config, version, info, stats.span),
        "## How to load\n\n" + how_to_load(release_path(config, version)),
        "## Dataset structure",
        "### Data fields\n\n" + field_table(schema_doc, arrow),
        "### Example record\n\nThe first record of the `train` split, as in the JSONL files:\n\n"
        + "```json\n"
        + json.dumps(stats.example, ensure_ascii=False, indent=2)
        + "\n```",
        "### Files\n\n" + files_section(info),
        "## Statistics\n\n" + statistics(stats),
        "## Source data and curation\n\n" + config.source.strip() + "\n\n" + config.curation.strip(),
        "## Licensing\n\n" + config.licensing.strip(),
        "## Citation\n\n```bibtex\n" + bibtex(config, version, stats.span) + "\n```",
        "## Changelog of this release\n\n" + changelog.strip(),
    ]
    return "\n\n".join(parts) + "\n"


def release_path(config: DatasetConfig, version: str) -> str:
    """Where the release lives in the repository, as the card's snippets name it."""
    return f"dist/{config.name}/{version}"


def summary(config: DatasetConfig, version: str, info: DataInfo, span: tuple[str, str]) -> str:
    first, last = span
    return "\n\n".join(
        [
            "## Dataset summary",
            config.description.strip(),
            f"Version {version}: {info.num_examples} articles published from {first} to {last}, "
            f"in one split, `{build.SPLIT}`.",
        ]
        + ([f"Homepage: {config.homepage}"] if config.homepage else [])
    )


def how_to_load(path: str) -> str:
    """Snippets for `datasets`, pandas, polars and DuckDB; the test suite runs each of them."""
    parquet = f"{path}/{build.DATA_DIR}/{build.SPLIT}-*.parquet"
    snippets = [
        (
            "datasets",
            f'import datasets\n\nds = datasets.load_dataset("{path}", split="{build.SPLIT}")',
        ),
        (
            "pandas",
            "import glob\n\nimport pandas as pd\n\n"
            f'files = sorted(glob.glob("{parquet}"))\n'
            "df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)",
        ),
        ("polars", f'import polars as pl\n\ndf = pl.read_parquet("{parquet}")'),
        ("DuckDB", f"import duckdb\n\nrows = duckdb.sql(\"SELECT * FROM '{parquet}'\").fetchall()"),
    ]
    intro = (
        f"The paths are those of the release in the newsset repository (`{path}`); in a copy of the "
        "release elsewhere, such as a clone of its Hugging Face repository, use that folder instead. "
        "No loading script is needed: the YAML above names the Parquet shards and their features. "
        f"`{layout.CROISSANT_FILE}` describes the same records for Croissant loaders (`mlcroissant`) "
        f"and `{layout.DATAPACKAGE_FILE}` for Frictionless tools."
    )
    blocks = [f"### {name}\n\n```python\n{code}\n```" for name, code in snippets]
    return "\n\n".join([intro, *blocks])


def feature_label(kind: pa.DataType) -> str:
    """An Arrow type as the card shows it: `string`, `date32`, `list<{name: string, role: string}>`."""
    if pa.types.is_list(kind):
        return f"list<{feature_label(kind.value_type)}>"
    if pa.types.is_struct(kind):
        return "{" + ", ".join(f"{f.name}: {feature_label(f.type)}" for f in kind) + "}"
    if pa.types.is_date32(kind):
        return "date32"
    return str(kind)


def cell(text: str) -> str:
    """Text for a Markdown table cell: pipes and angle brackets escaped, one line."""
    for char in "|<>":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def field_table(schema_doc: dict[str, Any], arrow: pa.Schema) -> str:
    """One row per field (and per field of a nested record) from the schema's descriptions."""
    rows = ["| Field | Type | Required | Description |", "| --- | --- | --- | --- |"]
    for f in schema.fields(schema_doc):
        rows.append(
            f"| `{f.name}` | `{feature_label(arrow.field(f.name).type)}` | "
            f"{'yes' if f.required else 'no'} | {cell(f.description)} |"
        )
        inner = f.spec.get("items", f.spec)
        for name, spec in schema.nested_properties(f.spec).items():
            required = "yes" if name in inner.get("required", []) else "no"
            kind = feature_label(schema.arrow_type(spec))
            rows.append(
                f"| `{f.name}[].{name}` | `{kind}` | {required} | {cell(spec.get('description', ''))} |"
            )
    return "\n".join(rows)


def files_section(info: DataInfo) -> str:
    lines = [
        f"- `{p}`: Parquet (zstd), the files `datasets` loads ({info.num_examples} rows in all)"
        for p in info.parquet
    ]
    lines += [f"- `{p}`: the same rows as JSON Lines (UTF-8)" for p in info.jsonl]
    lines += [
        "- `article.schema.json`: the JSON Schema every record was validated against",
        f"- `{layout.CROISSANT_FILE}`: Croissant 1.1 metadata (JSON-LD): the data files with their "
        "SHA-256 and the record structure, for ML loaders",
        f"- `{layout.DATAPACKAGE_FILE}`: a Frictionless Data Package (v2) with a Table Schema of the "
        "records (`frictionless validate datapackage.json`)",
        f"- `{layout.PLOTS_DIR}/`: the plots of the statistics below",
        "- `SHA256SUMS`: the SHA-256 of every other file (`sha256sum -c SHA256SUMS`)",
    ]
    return "Rows are sorted by date, page and id.\n\n" + "\n".join(lines)


@dataclass(frozen=True)
class Stats:
    """What the card says of the records: the counts of its tables and plots, the first and last
    date, and the first record (as its JSONL line gives it)."""

    per_month: list[tuple[str, int]]
    per_source: list[tuple[str, int]]
    per_section: list[tuple[str, int]]
    lengths: Lengths  # body lengths in characters
    span: tuple[str, str]
    example: dict[str, Any]
    files: tuple[build.FileFacts, ...] = ()  # what the shards' writers measured of their files

    def write_plots(self, folder: Path, jobs: int = 1) -> list[str]:
        return plots.write_plots(folder, self.per_month, self.lengths, self.per_section, jobs)


def int64_values(array: pa.Array) -> np.ndarray:
    """A signed integer array's values as int64, read from its buffer where it has no nulls:
    pyarrow's `to_numpy` imports pandas (half a second) in a shard writer that needs it for
    nothing else."""
    if array.null_count:
        return array.to_numpy(zero_copy_only=False).astype(np.int64)
    dtype = np.dtype(f"int{array.type.bit_width}")
    return np.frombuffer(array.buffers()[1], dtype, len(array), array.offset * dtype.itemsize).astype(
        np.int64
    )


def counted(column: pa.ChunkedArray) -> dict[Any, int]:
    """How many times each value (None too) is in a column, in the order the values first
    appear: Arrow counts them (`value_counts`), and a Counter updated with the result keeps
    that order, as it would counting the values one by one."""
    counts = pc.value_counts(column)
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


class Tally:
    """Stats gathered a table of rows at a time, in row order, in a few small counters.

    Order matters: of two sections with as many articles, the table lists first the one whose
    first article comes first (`Counter.most_common` keeps first-seen order among equals).
    Tallies of consecutive parts of the rows combine with `update`, in the parts' order.
    """

    def __init__(self, count_lengths: bool = True) -> None:
        self.count_lengths = count_lengths  # False where the body lengths are counted elsewhere
        self.months: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.sections: Counter[str] = Counter()
        self.lengths = Lengths.empty()
        self.span: tuple[str, str] | None = None
        self.example: dict[str, Any] | None = None
        self.files: list[build.FileFacts] = []

    def add(self, table: pa.Table) -> None:
        """Count the rows of a table of the dataset's columns, sorted by date."""
        if not table.num_rows:
            return
        dates = table.column("date")
        for day, n in counted(dates).items():
            self.months[day.isoformat()[:7]] += n
        self.sources.update(counted(table.column("source")))
        self.sections.update(counted(table.column("section")))
        if self.count_lengths:
            lengths = [int64_values(chunk) for chunk in pc.utf8_length(table.column("body")).chunks]
            self.lengths = self.lengths.plus(Lengths.of(np.concatenate(lengths)))
        self.extend_span((dates[0].as_py().isoformat(), dates[-1].as_py().isoformat()))

    def extend_span(self, span: tuple[str, str] | None) -> None:
        if span is not None:
            self.span = (self.span[0] if self.span else span[0], span[1])

    def update(self, later: Tally) -> None:
        """Add the tally of the rows that follow this one's."""
        self.months.update(later.months)
        self.sources.update(later.sources)
        self.sections.update(later.sections)
        self.lengths = self.lengths.plus(later.lengths)
        self.extend_span(later.span)
        self.example = self.example if self.example is not None else later.example
        self.files.extend(later.files)

    def stats(self) -> Stats:
        if self.span is None or self.example is None:
            raise ValueError("no records were counted")
        return Stats(
            per_month=month_counts(self.months),
            per_source=self.sources.most_common(),
            per_section=self.sections.most_common(),
            lengths=self.lengths,
            span=self.span,
            example=self.example,
            files=tuple(self.files),
        )


def month_counts(counts: Counter[str]) -> list[tuple[str, int]]:
    """Articles per month (YYYY-MM), every month from the first to the last, empty ones as 0."""
    if not counts:
        return []
    (year, month), last = map(int, min(counts).split("-")), max(counts)
    out = []
    while (label := f"{year:04d}-{month:02d}") <= last:
        out.append((label, counts[label]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def statistics(stats: Stats) -> str:
    """Articles per month, source and section, and the distribution of body lengths, with plots."""
    lengths = stats.lengths
    quantiles = [("min", 0.0), ("25%", 0.25), ("median", 0.5), ("75%", 0.75), ("max", 1.0)]
    length_rows = [f"| {label} | {lengths.quantile(q)} |" for label, q in quantiles]
    total = lengths.total
    mean = total / lengths.size
    sections = "| # | Section | Articles |\n| --- | --- | --- |\n" + "\n".join(
        f"| {i} | {cell(name)} | {n} |" for i, (name, n) in enumerate(stats.per_section, start=1)
    )
    return "\n\n".join(
        [
            "### Articles per month\n\n"
            + image("Articles per month", plots.MONTHS_FILE)
            + count_table("Month", stats.per_month),
            "### Articles per source\n\n" + count_table("Source", stats.per_source),
            "### Articles per section\n\n"
            + image("Articles per section, numbered as in the table", plots.SECTIONS_FILE)
            + sections,
            "### Body length (characters)\n\n"
            + image("Histogram of body lengths in characters", plots.LENGTHS_FILE)
            + "| Statistic | Characters |\n| --- | --- |\n"
            + "\n".join(length_rows)
            + f"\n| mean | {mean:.1f} |\n| total | {total} |",
        ]
    )


def image(alt: str, path: str) -> str:
    return f"![{alt}]({path})\n\n"


def count_table(label: str, rows: Sequence[tuple[str, int]]) -> str:
    return f"| {label} | Articles |\n| --- | --- |\n" + "\n".join(f"| {cell(k)} | {n} |" for k, n in rows)


def bibtex(config: DatasetConfig, version: str, span: tuple[str, str]) -> str:
    """A @misc entry naming the dataset and this version (`span`: its first and last date)."""
    key = f"{config.name}-{version}".replace("-", "_").replace(".", "_")
    first, last = span
    fields = [
        ("title", config.pretty_name),
        ("author", f"{{{config.citation_author}}}"),
        ("version", version),
        ("note", f"Dataset {config.name}, version {version}: articles from {first} to {last}"),
    ]
    if config.homepage:
        fields.append(("howpublished", f"\\url{{{config.homepage}}}"))
    body = ",\n".join(f"  {name:<12} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def read_metadata(path: Path) -> dict[str, Any]:
    """The YAML front matter of a card; ValueError if there is none or it is not YAML."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0] != FENCE or FENCE not in lines[1:]:
        raise ValueError("the card has no YAML front matter between '---' lines")
    end = lines.index(FENCE, 1)
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as err:
        raise ValueError(f"the card's YAML cannot be read: {err}") from err
    if not isinstance(data, dict):
        raise ValueError("the card's YAML is not a mapping")
    return data
