"""Releases: versions, immutable release folders, checksums and the changelog.

A release is `<out>/<name>/<version>/` with the data shards, the card, a copy of the schema and
`SHA256SUMS`. It is written to a temporary folder beside it and renamed into place, so a build
that is interrupted leaves no release behind; a version that exists is never written again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from builder import build, card, croissant, datapackage, layout, plots, runs, schema, versions
from builder.build import sha256
from builder.config import Config
from builder.diff import LEVELS, Changes, compare_sides, describe
from builder.sources import replace_file
from builder.validate import Report
from builder.versions import FIRST_VERSION, VERSION_RE, Version, bumped, step_of, version_text

SCHEMA_COPY = "article.schema.json"
SUMS_FILE = "SHA256SUMS"
CHANGELOG_HEADER = (
    "# Changelog\n\nEvery release of the dataset, newest first. Entries are written by `newsset build`.\n"
)


class ReleaseError(Exception):
    """A build that is refused: the version exists, contradicts the change, or cannot be chosen."""


# --- versions ----------------------------------------------------------------------------


def parse_version(text: str) -> Version:
    """`versions.parse`, refused as a ReleaseError."""
    try:
        return versions.parse(text)
    except ValueError as err:
        raise ReleaseError(str(err)) from None


def releases(dataset_dir: Path) -> list[tuple[Version, Path]]:
    """The releases of one dataset, oldest first (temporary and other folders are ignored)."""
    found = []
    if dataset_dir.is_dir():
        for entry in dataset_dir.iterdir():
            if entry.is_dir() and VERSION_RE.match(entry.name):
                found.append((parse_version(entry.name), entry))
    return sorted(found)


def latest(dataset_dir: Path, below: Version | None = None) -> tuple[Version, Path] | None:
    """The newest release, or the newest one older than `below`."""
    older = [r for r in releases(dataset_dir) if below is None or r[0] < below]
    return older[-1] if older else None


def find_release(dataset_dir: Path, version: str | None = None) -> Path | None:
    """The release of that version, or the newest one; None if there is none."""
    if version:
        path = dataset_dir / version
        return path if path.is_dir() else None
    found = latest(dataset_dir)
    return found[1] if found else None


def choose_version(
    previous: Version | None, changes: Changes, version: str | None, bump: str | None, force: bool
) -> Version:
    """The version of the new release: given, bumped, or proposed from the change by semver."""
    if previous is None:
        if bump:
            raise ReleaseError("there is no earlier release to bump; give --version (e.g. 1.0.0) or neither")
        return parse_version(version) if version else FIRST_VERSION
    needed = changes.level
    if version:
        chosen = parse_version(version)
        if chosen <= previous:
            raise ReleaseError(
                f"version {version} is not newer than the latest release {version_text(previous)}"
            )
        step = step_of(previous, chosen)
    elif bump:
        chosen, step = bumped(previous, bump), bump
    elif needed == "none":
        raise ReleaseError(
            f"nothing changed since {version_text(previous)}: no new release "
            "(give --bump or --version to release anyway)"
        )
    else:
        return bumped(previous, needed)
    if LEVELS.index(step) < LEVELS.index(needed) and not force:
        raise ReleaseError(
            f"this change is {needed} ({changes.reason()}), so {version_text(chosen)} ({step}) "
            f"would hide it; use {version_text(bumped(previous, needed))} or --force"
        )
    return chosen


# --- building ----------------------------------------------------------------------------


@dataclass
class BuildResult:
    """What a build did: the validation report and, when it built, the release and its change."""

    report: Report
    release: Path | None = None
    version: str = ""
    changes: Changes | None = None
    entry: str = ""
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """A release about to be written: its version, what came before and the change it carries."""

    corpus: runs.Staged
    schema_doc: dict[str, Any]
    version: str
    changes: Changes
    previous: str = ""

    def entry(self, level: int = 2) -> str:
        return changelog_entry(self.version, self.changes, self.previous, level)


def release_schema(release: Path) -> dict[str, Any]:
    """The schema a release was built with (its own copy, read afresh)."""
    return json.loads((release / SCHEMA_COPY).read_text(encoding="utf-8"))


def release_format(release: Path) -> int:
    """The release format recorded in a release's card; ValueError if unreadable or unknown."""
    meta = card.read_metadata(release / card.CARD_FILE)
    found = layout.format_of(meta)
    if found is None:
        raise ValueError(
            f"its card records release format {meta.get(layout.FORMAT_KEY)!r}, which this newsset "
            f"does not know (it knows 1 to {layout.RELEASE_FORMAT}); upgrade newsset"
        )
    return found


def plan(
    corpus: runs.Staged,
    previous: tuple[Version, Path] | None,
    version: str | None = None,
    bump: str | None = None,
    force: bool = False,
    jobs: int | None = None,
) -> Plan:
    """Compare the validated corpus with the previous release and choose the version."""
    schema_doc = schema.load()
    try:
        old_rows = build.ReleaseRows(previous[1], jobs) if previous else None
        old_schema = release_schema(previous[1]) if previous else None
        old_format = release_format(previous[1]) if previous else layout.RELEASE_FORMAT
        changes = compare_sides(old_rows, corpus, old_schema, schema_doc, (old_format, layout.RELEASE_FORMAT))
    except (OSError, ValueError, pa.ArrowException) as err:
        raise ReleaseError(f"the latest release cannot be read ({err}); run newsset verify on it") from err
    # Arrow's allocator keeps what the comparison freed (a next release's join of both sides'
    # digests): handed back now, it is not held on top of the merge's arrays and the shards' start.
    runs.give_back_memory()
    chosen = choose_version(previous[0] if previous else None, changes, version, bump, force)
    return Plan(
        corpus, schema_doc, version_text(chosen), changes, version_text(previous[0]) if previous else ""
    )


def build_release(
    articles: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    version: str | None = None,
    bump: str | None = None,
    force: bool = False,
    config: Config | None = None,
    changelog: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    progress: bool | None = None,
) -> BuildResult:
    """Validate the corpus, then write `<out>/<name>/<version>/` atomically and add the changelog entry.

    One pass validates and spills the records to sorted runs (builder/runs.py), in `jobs`
    processes (all cores for a big corpus by default); the shards are then merged from the runs.
    A corpus with errors builds nothing (the report says why). A refused build raises
    ReleaseError and touches nothing.
    """
    config = config or Config()
    dataset_dir = Path(out) / config.dataset.name
    with runs.stage(articles, jobs, progress, converting=latest(dataset_dir) is not None) as corpus:
        report = corpus.report
        if report.errors or not corpus.count:
            if not report.errors:
                raise ReleaseError("no articles found to build from")
            return BuildResult(report)
        if version:
            refuse_existing(dataset_dir / version)
        todo = plan(corpus, latest(dataset_dir), version, bump, force, jobs)
        target = dataset_dir / todo.version
        refuse_existing(target)
        if changelog is not None:
            check_changelog_free(Path(changelog), todo.version)
        tmp = dataset_dir / f".{todo.version}.tmp-{os.getpid()}"
        try:
            files = write_release(tmp, todo, config, jobs_for(jobs, corpus), progress)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if changelog is not None:
        add_changelog_entry(Path(changelog), todo.entry())
    return BuildResult(report, target, todo.version, todo.changes, todo.entry(), files)


def jobs_for(jobs: int | None, corpus: runs.Staged) -> int:
    """Shard writers: as asked, or every core when there are several runs to merge."""
    if jobs is not None:
        return jobs
    return min(len(corpus.runs), os.cpu_count() or 1)


def refuse_existing(target: Path) -> None:
    if target.exists():
        raise ReleaseError(f"{target} already exists: a release is never rebuilt; choose a new version")


def write_release(
    folder: Path, todo: Plan, config: Config, jobs: int = 1, progress: bool | None = None
) -> list[str]:
    """Write every file of a release into `folder`: data, schema copy, plots, card, Croissant and
    Data Package metadata, then the checksums."""
    folder.mkdir(parents=True)
    data_dir = folder / build.DATA_DIR
    preload = None if plots.drawing_ahead() else plots.preload
    stats = todo.corpus.write_data(data_dir, config.build, jobs, progress, meanwhile=preload)
    todo.corpus.drop_runs()
    shutil.copyfile(schema.schema_path(), folder / SCHEMA_COPY)
    stats.write_plots(folder, jobs)
    with build.known_files(stats.files):  # the shards' digests and sizes, from their writers
        info = card.measure(folder)
        text = card.render(config.dataset, todo.version, info, todo.schema_doc, stats, todo.entry(3))
        write_text(folder / card.CARD_FILE, text)
        write_metadata(folder, todo, config, stats.span)
        write_text(folder / SUMS_FILE, checksums(folder))
    files = release_files(folder)
    for name in files:
        (folder / name).chmod(0o444)
    sync(folder, files)
    return files


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def write_metadata(folder: Path, todo: Plan, config: Config, span: tuple[str, str]) -> None:
    """croissant.json and datapackage.json, from the files just written and the schema."""
    published = data_date(todo.changes)
    facts = croissant.derived(folder, todo.schema_doc, todo.version, published)
    citation = card.bibtex(config.dataset, todo.version, span)
    doc = croissant.document(config.dataset, facts, citation)
    write_text(folder / layout.CROISSANT_FILE, croissant.render(doc))
    package = datapackage.document(config.dataset, datapackage.derived(folder, todo.schema_doc, todo.version))
    write_text(folder / layout.DATAPACKAGE_FILE, datapackage.render(package))


def sync(folder: Path, files: Sequence[str]) -> None:
    """Flush the files and folders to disk, so that the rename publishes complete files."""
    for name in files:
        build.flush(folder / name)
    for path in {folder, *((folder / name).parent for name in files)}:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def diff_releases(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> Changes:
    """The comparison between two release folders: their records and their schemas."""
    before, after = Path(old), Path(new)
    return compare_sides(
        build.ReleaseRows(before),
        build.ReleaseRows(after),
        release_schema(before),
        release_schema(after),
        (release_format(before), release_format(after)),
    )


# --- checksums ---------------------------------------------------------------------------


def release_files(folder: Path) -> list[str]:
    """Every file of a release, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def checksums(folder: Path) -> str:
    """`sha256sum` format over every file but SHA256SUMS itself."""
    return "".join(f"{sha256(folder / n)}  {n}\n" for n in release_files(folder) if n != SUMS_FILE)


def read_checksums(path: Path) -> dict[str, tuple[str, int]]:
    """name → (hash, line number) from a SHA256SUMS file."""
    out = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if digest and name:
            out[name] = (digest, number)
    return out


# --- changelog ---------------------------------------------------------------------------


def data_date(changes: Changes) -> str:
    """The date of a release's data: its latest article's date, never the wall clock."""
    return changes.dates[1]


def changelog_entry(version: str, changes: Changes, previous: str = "", level: int = 2) -> str:
    """`## [version] - date` and the comparison with the previous release as a list."""
    heading = f"{'#' * level} [{version}] - {data_date(changes)}"
    return heading + "\n\n" + "\n".join(f"- {line}" for line in describe(changes, previous)) + "\n"


def entry_heading(text: str, version: str) -> bool:
    return any(line.startswith(f"## [{version}]") for line in text.splitlines())


def check_changelog_free(path: Path, version: str) -> None:
    if path.is_file() and entry_heading(path.read_text(encoding="utf-8"), version):
        raise ReleaseError(f"{path} already has an entry for {version}")


def add_changelog_entry(path: Path, entry: str) -> None:
    """Put the entry above the newest one (atomically; the file is created if missing)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else CHANGELOG_HEADER
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    head = "".join(lines[:at]).rstrip("\n") + "\n\n"
    rest = "".join(lines[at:])
    new = head + entry + ("\n" + rest if rest else "")
    if path.is_file():
        replace_file(path, new)
    else:
        path.write_text(new, encoding="utf-8")
