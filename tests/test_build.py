"""Building a release: what `datasets.load_dataset` gives back, the data files' types, order and
shards, the card, determinism, and the refusal to build from a corpus with errors."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import bylines, card, schema
from builder.config import load_config
from builder.lengths import Lengths
from builder.release import build_release

SHARD_BYTES = 8000  # small enough that the six seed articles need several shards


def source_records(articles: Path) -> dict[str, dict[str, Any]]:
    """The article files read plainly: front matter by PyYAML, paragraphs joined by one newline."""
    out = {}
    for path in sorted(articles.rglob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        record = yaml.safe_load(front)
        record["body"] = "\n".join(p.strip() for p in body.strip().split("\n\n"))
        out[record["id"]] = record
    return out


@pytest.fixture(scope="module")
def built(make_project, tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("built") / "project")
    project.set_build(max_shard_bytes=SHARD_BYTES, row_group_rows=1)
    result = project.build()
    assert result.exit_code == 0, result.output
    return project, project.release("1.0.0")


@pytest.fixture(scope="module")
def loaded(built, tmp_path_factory):
    import datasets

    _, release = built
    return datasets.load_dataset(str(release), cache_dir=str(tmp_path_factory.mktemp("hf-cache")))


def test_load_dataset_gives_every_value_of_the_source_files(built, loaded):
    project, _ = built
    expected = source_records(project.articles)
    assert list(loaded) == ["train"]
    train = loaded["train"]
    assert train.num_rows == len(expected) == 6
    for row in train:
        want = expected[row["id"]]
        for name in schema.field_names():
            if name != "authors":
                assert row[name] == want.get(name), (row["id"], name)
        derived = bylines.authors_of(want["byline"]) if "byline" in want else None
        assert row["authors"] == derived, row["id"]
    two = next(r for r in train if r["id"] == "pinghu-20201109-p01-02")
    assert two["authors"] == [
        {"name": "李雨婷", "role": "reporter"},
        {"name": "王强", "role": "photographer"},
    ]
    assert "\n" in two["body"] and "\n\n" not in two["body"]


def test_load_dataset_features_are_the_schemas(loaded):
    train = loaded["train"]
    types = train.data.schema
    assert types.field("date").type == pa.date32()
    assert types.field("page").type == pa.int32()
    assert types.field("authors").type == pa.list_(pa.struct([("name", pa.string()), ("role", pa.string())]))
    assert train.features == schema.features()
    assert train.features["date"].dtype == "date32"


def test_rows_are_sorted_by_date_page_and_id(built, loaded):
    project, _ = built
    rows = [(r["date"], r["page"], r["id"]) for r in loaded["train"]]
    assert rows == sorted(rows)
    assert [r[2] for r in rows] == sorted(source_records(project.articles))


def test_shards_are_bounded_and_parquet_and_jsonl_agree(built):
    _, release = built
    parquet = sorted((release / "data").glob("*.parquet"))
    jsonl = sorted((release / "data").glob("*.jsonl"))
    n = len(parquet)
    assert n > 1
    assert [p.name for p in parquet] == [f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    assert [p.name for p in jsonl] == [f"train-{i:05d}-of-{n:05d}.jsonl" for i in range(n)]
    for path in parquet:
        meta = pq.ParquetFile(path).metadata
        assert meta.num_row_groups == meta.num_rows  # row_group_rows = 1
        assert {meta.row_group(0).column(c).compression for c in range(meta.num_columns)} == {"ZSTD"}
        text = path.with_suffix(".jsonl").read_text(encoding="utf-8")
        lines = text.splitlines()
        assert len(text.encode("utf-8")) <= SHARD_BYTES or len(lines) == 1
        assert "今日平湖" in text and "\\u" not in text
        rows = pq.read_table(path).to_pylist()
        as_json = [
            {k: (v.isoformat() if k == "date" else v) for k, v in row.items() if v is not None}
            for row in rows
        ]
        assert [json.loads(line) for line in lines] == as_json


def test_card_yaml_and_sections(built):
    project, release = built
    meta = card.read_metadata(release / "README.md")
    settings = load_config(project.config).dataset
    parquet = sorted(p.relative_to(release).as_posix() for p in (release / "data").glob("*.parquet"))
    assert meta["pretty_name"] == settings.pretty_name
    assert meta["license"] == settings.license
    assert meta["language"] == ["zh"]
    assert meta["language_details"] == settings.language_details
    assert meta["task_categories"] == settings.task_categories
    assert meta["tags"] == settings.tags
    assert meta["size_categories"] == ["n<1K"]
    assert meta["version"] == "1.0.0"
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": parquet}]}
    ]
    info = meta["dataset_info"]
    assert [f["name"] for f in info["features"]] == schema.field_names()
    assert info["splits"][0]["name"] == "train"
    assert info["splits"][0]["num_examples"] == 6
    assert info["download_size"] == sum((release / p).stat().st_size for p in parquet)
    arrow_bytes = sum(pq.read_table(release / p).nbytes for p in parquet)
    assert info["dataset_size"] == info["splits"][0]["num_bytes"] == arrow_bytes
    text = (release / "README.md").read_text(encoding="utf-8")
    for f in schema.fields():
        assert f"| `{f.name}` |" in text
    assert "| Publication date of the issue the article appeared in (YYYY-MM-DD). |" in text
    assert "| 2020-11 | 6 |" in text and "| 1 | 要闻 | 6 |" in text and "| 今日平湖 | 6 |" in text
    for plot in ("articles-per-month", "articles-per-section", "body-length"):
        assert f"](plots/{plot}.png)\n" in text and (release / "plots" / f"{plot}.png").is_file()
    assert meta["release_format"] == 2
    assert sorted(meta["built_with"]) == ["datasets", "matplotlib", "pillow", "pyarrow"]
    assert "version      = {1.0.0}" in text and "@misc{zh_local_news_1_0_0," in text
    assert "### [1.0.0] - 2020-11-09" in text
    assert '"id": "pinghu-20201109-p01-01"' in text  # the example record


def png_chunks(data: bytes) -> list[str]:
    """The chunk types of a PNG file, in order."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        out.append(data[at + 4 : at + 8].decode("ascii"))
        at += 12 + length
    return out


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical_with_no_paths_or_clock(make_project, tmp_path):
    first, second = make_project(tmp_path / "a"), make_project(tmp_path / "b")
    for project in (first, second):
        assert project.build().exit_code == 0
    one, two = file_hashes(first.release("1.0.0")), file_hashes(second.release("1.0.0"))
    assert one == two
    assert set(one) == {
        "README.md",
        "SHA256SUMS",
        "article.schema.json",
        "croissant.json",
        "datapackage.json",
        "data/train-00000-of-00001.jsonl",
        "data/train-00000-of-00001.parquet",
        "plots/articles-per-month.png",
        "plots/articles-per-section.png",
        "plots/body-length.png",
    }
    for name in one:
        if name.endswith(".png"):
            chunks = png_chunks((first.release("1.0.0") / name).read_bytes())
            assert chunks == ["IHDR", "pHYs", "IDAT", "IEND"], name  # no text: no Software, no date
    assert first.changelog.read_bytes() == second.changelog.read_bytes()
    for path in [*first.release("1.0.0").rglob("*"), first.changelog]:
        if path.is_file():
            data = path.read_bytes()
            assert str(tmp_path).encode() not in data and b"/root" not in data, path
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", (first.release("1.0.0") / "README.md").read_text("utf-8")))
    assert dates == {"2020-11-09"}  # the data's date only, never the day of the build


def test_build_refuses_a_corpus_with_errors(project):
    project.edit("pinghu-20201109-p01-04", "page: 1\n", "page: one\n")
    result = project.build()
    assert result.exit_code == 1
    assert "pinghu-20201109-p01-04.md:5:1  error  S003  page: expected integer" in result.output
    assert "Not built" in result.output
    assert not project.out.exists()
    assert not project.changelog.exists()
    assert not [
        p for p in multiprocessing.active_children() if p.name == "newsset-plots"
    ]  # none left waiting


def test_a_clone_without_newsset_toml_builds_with_the_defaults(make_project, tmp_path):
    project = make_project(tmp_path / "p")
    project.config.unlink()
    result = build_release([project.articles], project.out)
    assert result.release == project.out / "zh-local-news" / "1.0.0"
    assert card.read_metadata(result.release / "README.md")["dataset_info"]["splits"][0]["num_examples"] == 6


def test_a_misspelt_config_key_is_a_usage_error(project):
    project.config.write_text('[dataset]\nnmae = "x"\n', encoding="utf-8")
    result = project.build()
    assert result.exit_code == 2
    assert f"{project.config}: [dataset] unknown key 'nmae'" in result.output
    assert not project.out.exists()


def column_encodings(release: Path) -> dict[str, set[str]]:
    """The encodings of each Parquet column (by its path) over every row group of the release."""
    found: dict[str, set[str]] = {}
    for path in sorted((release / "data").glob("*.parquet")):
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                column = meta.row_group(g).column(c)
                found.setdefault(column.path_in_schema, set()).update(column.encodings)
    return found


def test_the_body_is_written_without_a_dictionary_and_the_other_columns_with_one(make_project, tmp_path):
    """By default (`plain_fields = ["body"]`) the body's Parquet column is written plain, every
    other column (each leaf of the authors too) with a dictionary, and the rows read back the
    same; with `plain_fields = []` (the repository's setting, that keeps its releases up to
    1.1.0 reproducible) every column has a dictionary; a field the schema lacks is refused."""
    default, every = make_project(tmp_path / "default"), make_project(tmp_path / "every")
    text = default.config.read_text(encoding="utf-8")
    assert "\nplain_fields = []\n" in text
    default.config.write_text(text.replace("\nplain_fields = []\n", "\n"), encoding="utf-8")
    for project in (default, every):
        result = project.build("--version", "1.0.0")
        assert result.exit_code == 0, result.output
    plain, dictionary = column_encodings(default.release("1.0.0")), column_encodings(every.release("1.0.0"))
    assert set(plain) == set(dictionary) >= {"body", "authors.list.element.name", "authors.list.element.role"}
    assert "RLE_DICTIONARY" not in plain["body"] and "PLAIN" in plain["body"]
    assert all("RLE_DICTIONARY" in found for path, found in plain.items() if path != "body")
    assert all("RLE_DICTIONARY" in found for found in dictionary.values())
    read = [
        pq.read_table(next((p.release("1.0.0") / "data").glob("*.parquet"))).to_pylist()
        for p in (default, every)
    ]
    assert read[0] == read[1] and len(read[0]) == 6
    text = every.config.read_text(encoding="utf-8").replace("plain_fields = []", 'plain_fields = ["bdoy"]')
    every.config.write_text(text, encoding="utf-8")
    result = every.build("--version", "1.0.1")
    assert result.exit_code == 2
    assert f"{every.config}: [build] plain_fields: 'bdoy' is not a field of the schema" in result.output


# Arrow types of every shape `schema.arrow_type` gives: the plain values, lists and structs of them.
PLAIN_TYPES = st.sampled_from([pa.string(), pa.date32(), pa.int32(), pa.float64(), pa.bool_()])
FIELD_NAMES = st.sampled_from(["a", "name", "role", "x", "list", "dtype"])
arrow_types = st.recursive(
    PLAIN_TYPES,
    lambda inner: st.one_of(
        inner.map(pa.list_),
        st.lists(st.tuples(FIELD_NAMES, inner), min_size=1, max_size=3, unique_by=lambda f: f[0]).map(
            pa.struct
        ),
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(FIELD_NAMES, arrow_types), min_size=1, max_size=4, unique_by=lambda f: f[0]))
def test_the_features_block_is_the_one_datasets_writes(fields: list[tuple[str, pa.DataType]]) -> None:
    """The card writes `dataset_info.features` itself, without importing `datasets`: for any
    schema of the types the JSON Schema maps to, it is what `datasets` writes, order included."""
    import datasets

    arrow_schema = pa.schema(fields)
    expected = datasets.Features.from_arrow_schema(arrow_schema)._to_yaml_list()
    assert json.dumps(card.features_yaml(arrow_schema)) == json.dumps(expected)


def test_the_dataset_info_block_is_the_one_datasets_writes() -> None:
    import datasets
    from datasets.info import DatasetInfosDict

    info = card.DataInfo(
        parquet=["data/x.parquet"], jsonl=[], num_examples=7, num_bytes=1234, download_size=999
    )
    splits = datasets.SplitDict()
    splits.add(datasets.SplitInfo(name="train", num_bytes=1234, num_examples=7))
    given_info = datasets.DatasetInfo(
        features=schema.features(), splits=splits, download_size=999, dataset_size=1234
    )
    expected: dict[str, Any] = {}
    DatasetInfosDict({"default": given_info}).to_dataset_card_data(expected)
    assert json.dumps(card.dataset_info(info, schema.load())) == json.dumps(expected["dataset_info"])


def test_the_plots_are_the_same_bytes_drawn_in_one_process_or_several(tmp_path: Path) -> None:
    from builder import plots

    per_month = [(f"2020-{m:02d}", m * 3) for m in range(1, 13)]
    lengths = Lengths.of(list(range(100, 2100, 7)))
    per_section = [("要闻", 9), ("综合", 4), ("社会", 4)]
    drawn = {}
    for jobs in (1, 2):
        folder = tmp_path / f"jobs-{jobs}"
        names = plots.write_plots(folder, per_month, lengths, per_section, jobs=jobs)
        drawn[jobs] = {name: (folder / name).read_bytes() for name in names}
    assert len(drawn[1]) == 3 and all(data.startswith(b"\x89PNG") for data in drawn[1].values())
    assert drawn[1] == drawn[2]


PLOT_DATA = (
    [(f"2020-{m:02d}", m * 3) for m in range(1, 13)],
    Lengths.of(list(range(100, 2100, 7))),
    [("要闻", 9), ("综合", 4), ("社会", 4)],
)


def drawn_plots(folder: Path, jobs: int = 2) -> dict[str, bytes]:
    from builder import plots

    return {name: (folder / name).read_bytes() for name in plots.write_plots(folder, *PLOT_DATA, jobs=jobs)}


def test_a_plotting_process_started_ahead_draws_the_same_bytes_and_is_used_once(tmp_path: Path) -> None:
    from builder import plots

    here = drawn_plots(tmp_path / "here")
    plots.start_ahead()
    ahead = plots._ahead
    assert ahead is not None and plots.drawing_ahead()
    assert drawn_plots(tmp_path / "ahead") == here
    assert not plots.drawing_ahead()
    ahead.process.join(timeout=10)
    assert ahead.process.exitcode == 0


def test_plots_are_drawn_here_when_the_process_ahead_is_gone(tmp_path: Path) -> None:
    from builder import plots

    plots.start_ahead()
    assert plots._ahead is not None
    plots._ahead.process.kill()
    plots._ahead.process.join(timeout=10)
    assert drawn_plots(tmp_path / "here") == drawn_plots(tmp_path / "again")


def test_a_plot_that_fails_in_the_process_ahead_fails_the_same_way(tmp_path: Path) -> None:
    from builder import plots

    (tmp_path / plots.LENGTHS_FILE).mkdir(parents=True)  # a folder where a plot goes
    plots.start_ahead()
    ahead = plots._ahead
    with pytest.raises(IsADirectoryError):
        plots.write_plots(tmp_path, *PLOT_DATA, jobs=1)
    assert ahead is not None and not plots.drawing_ahead() and ahead.process.exitcode == 0


def test_an_unused_plotting_process_ends_when_stopped() -> None:
    from builder import plots

    plots.start_ahead()
    ahead = plots._ahead
    assert ahead is not None
    plots.start_ahead()  # a second start stops the first
    assert not ahead.process.is_alive() and ahead.process.exitcode == 0
    second = plots._ahead
    holder = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
    holder.start()  # holds a copy of this end of the pipe: its closing alone is no signal
    try:
        plots.stop_ahead()
        assert second is not None and not second.process.is_alive() and second.process.exitcode == 0
    finally:
        holder.kill()
        holder.join()
