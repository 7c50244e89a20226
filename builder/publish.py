"""Publishing a release to a Hugging Face dataset repository.

A release that verifies is uploaded as one commit that makes the repository hold exactly the
release's files (any other file there, but `.gitattributes`, is deleted in the same commit), and
the commit is tagged with the version, so `load_dataset(repo, revision="1.1.0")` gives that
release forever. A version that the repository already has as a tag is refused before anything
is uploaded. The dry run lists the files as `upload_folder` selects them, with their sizes and
SHA-256, and talks to no one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.build import sha256
from builder.release import ReleaseError, parse_version
from builder.verify import verify_release

HUB = "https://huggingface.co"
REPO_TYPE = "dataset"


class PublishError(Exception):
    """A publish that is refused: the release does not verify, or the version is published."""


class RepoIdError(PublishError):
    """The repository id is not OWNER/NAME as the Hub spells it (a usage error)."""


class HubError(PublishError):
    """The Hub could not be reached, or did not complete the upload or the tag."""


@dataclass(frozen=True)
class Upload:
    """One file of the upload: its path in the repository, size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PublishPlan:
    """What publishing a release does: which files go to which repository, and the tag."""

    release: Path
    repo_id: str
    version: str
    files: list[Upload]

    @property
    def url(self) -> str:
        return f"{HUB}/datasets/{self.repo_id}"

    @property
    def tag(self) -> str:
        return self.version

    @property
    def message(self) -> str:
        return f"Release {self.release.parent.name} {self.version}"

    def describe(self) -> list[str]:
        """The plan in lines, as the dry run prints it."""
        total = sum(f.size for f in self.files)
        width = max(len(f.path) for f in self.files)
        return [
            f"{self.release} → {self.url} (dataset repository), one commit '{self.message}':",
            *(f"  upload {f.path:<{width}}  {f.size:>12} bytes  sha256 {f.sha256}" for f in self.files),
            "  delete every other file of the repository but .gitattributes",
            f"then tag the commit {self.tag}. {len(self.files)} files, {total} bytes.",
        ]


def check_repo_id(repo_id: str) -> None:
    """OWNER/NAME as the Hub spells repository ids."""
    from huggingface_hub.utils import validate_repo_id

    owner, slash, name = repo_id.partition("/")
    if not (owner and slash and name):
        raise RepoIdError(f"--repo-id {repo_id!r} must be OWNER/NAME, e.g. my-org/zh-local-news")
    try:
        validate_repo_id(repo_id)
    except ValueError as err:
        raise RepoIdError(f"--repo-id {repo_id!r} is not a valid repository id: {err}") from err


def upload_list(folder: Path) -> list[str]:
    """The files `upload_folder` sends from a folder: all of them but git's and the Hub cache's."""
    from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

    files = sorted(p.relative_to(folder).as_posix() for p in folder.glob("**/*") if p.is_file())
    return list(filter_repo_objects(files, ignore_patterns=DEFAULT_IGNORE_PATTERNS))


def plan_publish(release: str | os.PathLike[str], repo_id: str) -> PublishPlan:
    """Check the repository id and the release (it must verify), and list what would be uploaded."""
    check_repo_id(repo_id)
    folder = Path(release)
    try:
        parse_version(folder.name)
    except ReleaseError as err:
        raise PublishError(f"{folder} is not a release folder (<out>/<name>/<version>): {err}") from err
    report = verify_release(folder)
    if report.errors:
        count = f"{report.errors} error{'s' * (report.errors != 1)}"
        raise PublishError(
            f"{folder} does not verify ({count}): run newsset verify {folder}; "
            "only a release that verifies is published"
        )
    files = [Upload(n, (folder / n).stat().st_size, sha256(folder / n)) for n in upload_list(folder)]
    return PublishPlan(folder, repo_id, folder.name, files)


def publish(plan: PublishPlan, api: Any = None) -> str:
    """Upload the release as one commit, tag it with the version; return the commit's URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = api or HfApi()
    try:
        refs = api.list_repo_refs(plan.repo_id, repo_type=REPO_TYPE)
        if plan.tag in tag_names(refs.tags):
            raise PublishError(
                f"{plan.url} already has a tag {plan.tag}: a release is published once; "
                "build a new version to publish changes"
            )
        commit = api.upload_folder(
            repo_id=plan.repo_id,
            repo_type=REPO_TYPE,
            folder_path=str(plan.release),
            commit_message=plan.message,
            delete_patterns="*",
        )
        api.create_tag(
            plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=REPO_TYPE, tag_message=plan.message
        )
    except PublishError:
        raise
    except RepositoryNotFoundError as err:
        raise HubError(
            f"{plan.url}: no such dataset repository, or no access to it; create it on the Hub first "
            "and log in (hf auth login) or set HF_TOKEN"
        ) from err
    except Exception as err:  # the Hub client's network and HTTP errors, whatever their class
        raise HubError(f"the Hub did not complete the publish: {type(err).__name__}: {err}") from err
    return str(commit.commit_url)


def publish_release(
    release: str | os.PathLike[str], repo_id: str, dry_run: bool = False, api: Any = None
) -> tuple[PublishPlan, str | None]:
    """Plan the publish and, unless it is a dry run, carry it out: (the plan, the commit's URL)."""
    plan = plan_publish(release, repo_id)
    return plan, None if dry_run else publish(plan, api)


def tag_names(tags: Sequence[Any]) -> set[str]:
    return {tag.name for tag in tags}
