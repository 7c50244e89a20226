"""The card checks itself offline: `newsset verify` holds the card's YAML to the Hub's documented
rules (R409–R413) and to the files (R405), and every release committed so far passes."""

from __future__ import annotations

import json

import pytest

from builder import hubcard
from builder.card import read_metadata
from tests.conftest import committed_releases, reseal, writable_copy


@pytest.fixture(scope="module")
def built(make_project, tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("hubcard") / "project")
    assert project.build().exit_code == 0
    return project


@pytest.fixture
def release(built, tmp_path):
    """A writable copy of the fresh release, so each test edits its own card."""
    return writable_copy(built.release("1.0.0"), tmp_path / "zh-local-news" / "1.0.0")


def edit_card(release, old: str, new: str) -> None:
    """Change the card's text and reseal SHA256SUMS, as someone hiding the edit would."""
    card = release / "README.md"
    text = card.read_text(encoding="utf-8")
    assert old in text, old
    card.write_text(text.replace(old, new, 1), encoding="utf-8")
    reseal(release)


def problems(newsset, release) -> list[tuple[str, int, str]]:
    result = newsset("verify", release, "--format", "json")
    return [(d["rule"], d["line"], d["message"]) for d in json.loads(result.stdout)["diagnostics"]]


def test_a_fresh_card_and_every_committed_one_follow_the_hub_rules(release):
    for folder in [release, *committed_releases()]:
        assert hubcard.check(read_metadata(folder / "README.md"), folder) == [], folder


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("license: other\n", "license: apache-2\n", [("R409", 3, "license 'apache-2' is not one of the Hub's license ids")]),
        (
            "license_name: publisher-copyright\n",
            "",
            [("R409", 3, "license: other needs a license_name in lower case, e.g. my-license-1.0 (got None)")],
        ),
        (
            "license_name: publisher-copyright\n",
            "license_name: Publisher Copyright\n",
            [("R409", 4, "license: other needs a license_name in lower case, e.g. my-license-1.0 (got 'Publisher Copyright')")],
        ),
        (
            "license_name: publisher-copyright\n",
            "license_name: publisher-copyright\nlicense_link: LICENSE\n",
            [("R409", 5, "license_link 'LICENSE' is no URL and no file of the release")],
        ),
        (
            "- n<1K\n",
            "- n<2K\n",
            [
                ("R405", 11, 'size_categories: the card says ["n<2K"], the files give ["n<1K"]'),
                ("R410", 11, "size_categories: 'n<2K' is not a size bucket of the Hub"),
            ],
        ),
        ("- summarization\n", "- summarisation\n", [("R411", 8, "task_categories: 'summarisation' is not a task id of the Hub")]),
        (
            "language:\n- zh\n",
            "language:\n- chinese\n",
            [
                ("R412", 5, "language: 'chinese' is not an ISO 639-1 or 639-3 code"),
                ("R412", 7, "language_details: 'zh-Hans-CN' is not a variant of a language the card lists"),
            ],
        ),
        (
            "language_details: zh-Hans-CN\n",
            "language_details: zh_Hans\n",
            [("R412", 7, "language_details: 'zh_Hans' is not a BCP 47 tag")],
        ),
        (
            "    - data/train-00000-of-00001.parquet\n",
            "    - data/train-*.parket\n",
            [
                ("R405", 19, 'configs: the card says [{"config_name": "default", "data_files": [{"split": "train", "path": ["data/train-*.parket"]}]}], the files give [{"config_name": "default", "data_files": [{"split": "train", "path": ["data/train-00000-of-00001.parquet"]}]}]'),
                ("R413", 19, "configs: 'data/train-*.parket' matches no file of the release"),
            ],
        ),
        ("version: 1.0.0\n", "", [("R405", 1, 'version: the card says null, the files give "1.0.0"')]),
    ],
    ids=["license", "no-license-name", "license-name", "license-link", "size", "task", "language", "bcp47", "configs", "version"],
)  # fmt: skip
def test_wrong_or_stale_metadata_is_an_error(newsset, release, old, new, expected):
    edit_card(release, old, new)
    assert problems(newsset, release) == expected
    assert newsset("verify", release).exit_code == 1


def test_the_hub_lists_are_the_documented_ones():
    licenses = hubcard.known(hubcard.LICENSES_FILE)
    assert (
        licenses["apache-2.0"] == "Apache license 2.0"
        and "other" in licenses
        and "cc-by-nc-sa-4.0" in licenses
    )
    assert len(licenses) == 82
    tasks = hubcard.known(hubcard.TASKS_FILE)
    assert {"text-generation", "summarization", "text-classification"} <= set(tasks) and len(tasks) == 56
    languages = hubcard.known(hubcard.LANGUAGES_FILE)
    assert languages["zh"] == "Chinese" and "xx" not in languages


def test_size_buckets_follow_the_hub():
    assert [hubcard.size_category(n) for n in (0, 999, 1000, 9_999_999, 10**9, 10**12)] == [
        "n<1K", "n<1K", "1K<n<10K", "1M<n<10M", "1B<n<10B", "n>1T",
    ]  # fmt: skip


def test_config_paths_in_every_form_the_hub_takes(release):
    files = {"data_files": ["data/*.parquet", "data/missing.csv"]}
    one = {"config_name": "a", "data_files": "data/train-00000-of-00001.jsonl"}
    found = hubcard.check_configs(
        {"configs": [one, files, {"config_name": "b"}, {"data_files": "../x"}]}, release
    )
    assert [f.message for f in found] == [
        "configs: 'data/missing.csv' matches no file of the release",
        "configs: b names no data_files",
        "configs: '../x' is not a path inside the release",
    ]
