"""`newsset publish`: the dry run lists exactly what would be uploaded and contacts no one; the
real path uploads the folder as one commit and tags it, and fails cleanly when the Hub is out of
reach (the tests run with HF_HUB_OFFLINE=1, and the Hub is not reachable here)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from builder.build import sha256
from builder.publish import PublishError, plan_publish, publish, publish_release
from tests.conftest import reseal, writable_copy

FILES = [
    "README.md",
    "SHA256SUMS",
    "article.schema.json",
    "croissant.json",
    "data/train-00000-of-00001.jsonl",
    "data/train-00000-of-00001.parquet",
    "datapackage.json",
    "plots/articles-per-month.png",
    "plots/articles-per-section.png",
    "plots/body-length.png",
]


@pytest.fixture(scope="module")
def built(make_project, tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("publish") / "project")
    assert project.build().exit_code == 0
    return project


class RecordingHub:
    """Stands in for HfApi: records each call and answers as the Hub does."""

    def __init__(self, tags: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.tags = tags

    def list_repo_refs(self, repo_id, **kwargs):
        self.calls.append(("list_repo_refs", {"repo_id": repo_id, **kwargs}))
        return SimpleNamespace(tags=[SimpleNamespace(name=t) for t in self.tags])

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        return SimpleNamespace(
            oid="c0ffee", commit_url=f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/c0ffee"
        )

    def create_tag(self, repo_id, **kwargs):
        self.calls.append(("create_tag", {"repo_id": repo_id, **kwargs}))


def test_dry_run_lists_exactly_the_files_with_sizes_and_hashes(built, newsset):
    release = built.release("1.0.0")
    result = newsset("publish", release, "--repo-id", "my-org/zh-local-news", "--dry-run")
    assert result.exit_code == 0, result.output
    width = max(map(len, FILES))
    assert result.stdout.splitlines() == [
        f"{release} → https://huggingface.co/datasets/my-org/zh-local-news (dataset repository), "
        "one commit 'Release zh-local-news 1.0.0':",
        *(
            f"  upload {name:<{width}}  {(release / name).stat().st_size:>12} bytes  sha256 {sha256(release / name)}"
            for name in FILES
        ),
        "  delete every other file of the repository but .gitattributes",
        f"then tag the commit 1.0.0. 10 files, {sum((release / n).stat().st_size for n in FILES)} bytes.",
    ]
    assert result.stderr == "Dry run: nothing was uploaded.\n"
    sums = (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {name: digest for digest, name in (line.split("  ") for line in sums)}
    for line in result.stdout.splitlines()[1:-2]:
        name, digest = line.split()[1], line.split()[-1]
        assert name == "SHA256SUMS" or listed[name] == digest


def test_publishing_offline_fails_cleanly_after_listing(built, newsset):
    result = newsset("publish", built.release("1.0.0"), "--repo-id", "my-org/zh-local-news")
    assert result.exit_code == 2
    assert (
        "Error: the Hub did not complete the publish: OfflineModeIsEnabled: Cannot reach https://huggingface.co"
        in result.stderr
    )
    assert "Traceback" not in result.output


def test_publish_uploads_the_folder_as_one_commit_and_tags_it(built):
    hub = RecordingHub(tags=("0.9.0",))
    plan, url = publish_release(built.release("1.0.0"), "my-org/zh-local-news", api=hub)
    assert url == "https://huggingface.co/datasets/my-org/zh-local-news/commit/c0ffee"
    assert hub.calls == [
        ("list_repo_refs", {"repo_id": "my-org/zh-local-news", "repo_type": "dataset"}),
        (
            "upload_folder",
            {
                "repo_id": "my-org/zh-local-news",
                "repo_type": "dataset",
                "folder_path": str(built.release("1.0.0")),
                "commit_message": "Release zh-local-news 1.0.0",
                "delete_patterns": "*",
            },
        ),
        (
            "create_tag",
            {
                "repo_id": "my-org/zh-local-news",
                "tag": "1.0.0",
                "revision": "c0ffee",
                "repo_type": "dataset",
                "tag_message": "Release zh-local-news 1.0.0",
            },
        ),
    ]
    assert [u.path for u in plan.files] == FILES


def test_a_version_already_tagged_is_refused_before_uploading(built):
    hub = RecordingHub(tags=("1.0.0",))
    with pytest.raises(PublishError, match=re.escape("already has a tag 1.0.0: a release is published once")):
        publish(plan_publish(built.release("1.0.0"), "my-org/zh-local-news"), api=hub)
    assert [name for name, _ in hub.calls] == ["list_repo_refs"]


def test_a_release_that_does_not_verify_is_not_published(built, tmp_path, newsset):
    copy = writable_copy(built.release("1.0.0"), tmp_path / "zh-local-news" / "1.0.0")
    (copy / "plots" / "body-length.png").unlink()
    reseal(copy)
    result = newsset("publish", copy, "--repo-id", "my-org/zh-local-news", "--dry-run")
    assert result.exit_code == 1
    assert f"Error: {copy} does not verify (1 error): run newsset verify {copy}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("repo_id", ["zh-local-news", "my-org/zh--news", "a/b/c"])
def test_a_bad_repo_id_is_a_usage_error(built, newsset, repo_id):
    result = newsset("publish", built.release("1.0.0"), "--repo-id", repo_id, "--dry-run")
    assert result.exit_code == 2
    assert f"Error: Invalid value for --repo-id: --repo-id {repo_id!r}" in result.stderr


def test_only_a_release_folder_is_published(built, newsset):
    result = newsset("publish", built.out, "--repo-id", "my-org/zh-local-news", "--dry-run")
    assert result.exit_code == 1
    assert "is not a release folder (<out>/<name>/<version>)" in result.stderr
