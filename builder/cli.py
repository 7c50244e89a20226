"""The `newsset` command: a thin click skin over the library.

Each command parses its options, calls one library function, prints what it returns and picks
the exit code: 0 clean, 1 problems found, 2 usage or environment error.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from builder import __version__, report, workers
from builder.catalog import rules_table
from builder.config import Config, ConfigError, load_config
from builder.versions import BUMPS

# Each command imports the part of the library it calls, when it runs: `newsset validate`,
# which a pull request waits for, then loads neither pyarrow nor the extractor nor the Hub client.

DEFAULT_ARTICLES = "articles"
DEFAULT_OUT = "dist"
DEFAULT_CHANGELOG = "CHANGELOG.md"


class EnvironmentProblem(click.ClickException):
    """Something around the command is wrong (a config file, a missing release): exit 2."""

    exit_code = 2


def default_paths(paths: tuple[str, ...]) -> list[str]:
    """The paths given, or the repo's `articles/` folder."""
    if paths:
        return list(paths)
    if not Path(DEFAULT_ARTICLES).is_dir():
        raise click.UsageError(f"no paths given and no '{DEFAULT_ARTICLES}/' folder here")
    return [DEFAULT_ARTICLES]


def output_format_option(func):  # type: ignore[no-untyped-def]
    """`--format text|json|github`, shared by the commands that report diagnostics."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(report.FORMATS),
        default="text",
        show_default=True,
        help="text for people, json for programs, github for annotations in GitHub Actions.",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsset")
def cli() -> None:
    """Turn Chinese local-newspaper pages into a clean, versioned, validated dataset."""


def engine_options(func):  # type: ignore[no-untyped-def]
    """`--engine local|ray` and `--address`, shared by validate and build."""
    func = click.option(
        "--address", metavar="ADDR", help="With --engine ray: the Ray cluster [default: a local Ray]."
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(workers.ENGINES),
        default="local",
        show_default=True,
        help="local worker processes, or Ray tasks (pip install 'newsset[ray]'); same output.",
    )(func)


@contextmanager
def running_on(engine: str, address: str | None) -> Iterator[None]:
    """The engine for the command; a missing Ray or an unreachable cluster exits 2."""
    from builder.ray_engine import EngineError

    try:
        with workers.engine(engine, address):
            yield
    except EngineError as err:
        raise EnvironmentProblem(str(err)) from err


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@output_format_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: all cores for big inputs]."
)
@engine_options
def validate(
    paths: tuple[str, ...], fmt: str, strict: bool, jobs: int | None, engine: str, address: str | None
) -> None:
    """Check article files (.md and .jsonl, files or folders) against the schema and rules.

    Every problem is reported with file, line, column, rule id and a hint.
    Exit code: 0 clean, 1 problems found, 2 usage error.

    \b
    Example:
        newsset validate
        newsset validate articles/2020/11/09 --strict --format github
        newsset validate big.jsonl --engine ray --address 10.0.0.5:6379
    """
    from builder.validate import validate_paths

    with running_on(engine, address):
        result = validate_paths(default_paths(paths), jobs=jobs)
    emit_diagnostics(result.sorted(), result.files, result.records, fmt)
    sys.exit(1 if result.failed(strict) else 0)


def emit_diagnostics(diagnostics: list, files: int, records: int, fmt: str) -> None:  # type: ignore[type-arg]
    """Print diagnostics in the chosen format (text adds a summary line on stderr)."""
    if fmt == "json":
        click.echo(report.format_json(files, records, diagnostics))
        return
    if fmt == "github":
        if diagnostics:
            click.echo(report.format_github(diagnostics))
        click.echo(report.summary(files, records, diagnostics), err=True)
        return
    colour = sys.stdout.isatty()
    if diagnostics:
        click.echo(report.format_text(diagnostics, colour=colour))
    click.echo(report.summary(files, records, diagnostics), err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Only list what would change; exit 1 if anything would.")
def fix(paths: tuple[str, ...], check: bool) -> None:
    """Apply the safe fixes in place: join hard wraps, drop CJK spacing, full-width
    punctuation in Chinese text, NFC. Files are replaced atomically.

    \b
    Example:
        newsset fix articles/2020/11/09/pinghu-20201109-p01-03.md
        newsset fix --check
    """
    from builder.fix import fix_paths

    result = fix_paths(default_paths(paths), check=check)
    verb = "would fix" if check else "fixed"
    for change in result.changes:
        click.echo(f"{change.file}:{change.line}  {change.rule}  {verb}: {change.description}")
    for name in result.skipped:
        click.echo(f"{name}: skipped (cannot be read; run newsset validate)", err=True)
    n = len(result.files_changed)
    click.echo(f"{n} file{'s' * (n != 1)} {'would be changed' if check else 'changed'}.", err=True)
    sys.exit(1 if check and n else 0)


@cli.command("rules")
@click.option("--markdown", is_flag=True, help="Print the table in Markdown, as in the README.")
def list_rules(markdown: bool) -> None:
    """List every rule: id, name, severity, whether `newsset fix` fixes it, and what it checks.

    \b
    Example:
        newsset rules
        newsset rules --markdown
    """
    click.echo(rules_table(markdown))


def read_config(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as err:
        raise EnvironmentProblem(str(err)) from err


@cli.command("build")
@click.option(
    "--articles",
    "articles",
    multiple=True,
    type=click.Path(),
    help="Article files or folders; repeat for several. [default: articles/]",
)
@click.option("--version", "version", metavar="X.Y.Z", help="The version to release.")
@click.option("--bump", type=click.Choice(BUMPS), help="Release the latest version in --out, bumped.")
@click.option("--force", is_flag=True, help="Allow a version smaller than the change needs.")
@click.option("--out", default=DEFAULT_OUT, show_default=True, type=click.Path(file_okay=False))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="[default: newsset.toml]")
@click.option(
    "--changelog",
    default=DEFAULT_CHANGELOG,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The changelog that gets the release's entry.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: rebuild the newest release (or --version) in a temporary folder and "
    "check that it is byte-identical; exit 1 if not.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes; the bytes do not depend on it. [default: all cores for big inputs]",
)
@output_format_option
@engine_options
def build_command(
    articles: tuple[str, ...],
    version: str | None,
    bump: str | None,
    force: bool,
    out: str,
    config_path: str | None,
    changelog: str,
    check: bool,
    jobs: int | None,
    fmt: str,
    engine: str,
    address: str | None,
) -> None:
    """Validate the corpus and release it as <out>/<name>/<version>/: Parquet and JSONL shards,
    the dataset card with its plots, a copy of the schema, croissant.json (Croissant 1.1),
    datapackage.json (Data Package v2) and SHA256SUMS, plus an entry in CHANGELOG.md.

    Without --version or --bump the version is proposed from the change since the latest
    release: a field's type changed → major, articles or fields added or removed, or a new
    release format (new files beside the data) → minor, corrections → patch. A version that
    exists is refused; so is one too small for the change, unless --force. A corpus with
    errors is refused and its errors printed. The build streams: records are spilled to sorted
    runs under TMPDIR (about the size of the .md files as JSONL; for a JSONL file, the lines'
    places in it, which must not change until the build is done) and merged, so memory holds
    batches of records, never the corpus.
    Exit code: 0 built (or reproduced), 1 refused or not reproduced, 2 usage or config error.

    \b
    Example:
        newsset build --check
        newsset build --bump minor
        newsset build --articles articles --version 1.0.0 --out dist
        newsset build --bump minor --engine ray --address 10.0.0.5:6379
    """
    if engine == "local":
        from builder import plots

        plots.start_ahead()  # before the imports below, on the core they leave idle
        click.get_current_context().call_on_close(plots.stop_ahead)  # unused where nothing is built
    from builder.release import ReleaseError, build_release

    if version and bump:
        raise click.UsageError("give --version or --bump, not both")
    config = read_config(config_path)
    paths = default_paths(articles)
    if check:
        with running_on(engine, address):
            check_release(paths, out, version, config, changelog, fmt, jobs)
        return
    try:
        with running_on(engine, address):
            result = build_release(paths, out, version, bump, force, config, changelog, jobs)
    except ReleaseError as err:
        raise click.ClickException(str(err)) from err
    except OSError as err:
        raise EnvironmentProblem(f"cannot write the release: {err}") from err
    if result.release is None:
        emit_diagnostics(result.report.sorted(), result.report.files, result.report.records, fmt)
        click.echo("Not built: the corpus has errors (newsset validate shows them too).", err=True)
        sys.exit(1)
    if result.report.diagnostics:
        emit_diagnostics(result.report.sorted(), result.report.files, result.report.records, fmt)
    click.echo(f"Built {result.release} ({len(result.files)} files).")
    click.echo(result.entry, nl=False)
    click.echo(f"Added the entry for {result.version} to {changelog}.", err=True)


def check_release(
    paths: list[str],
    out: str,
    version: str | None,
    config: Config,
    changelog: str,
    fmt: str,
    jobs: int | None = None,
) -> None:
    """`build --check`: the rebuild of one release, compared byte for byte."""
    from builder.release import ReleaseError, find_release
    from builder.verify import check_reproduces

    dataset_dir = Path(out) / config.dataset.name
    release = find_release(dataset_dir, version)
    if release is None:
        raise EnvironmentProblem(
            f"no release {version or ''} to check under {dataset_dir}".replace("  ", " ")
        )
    try:
        result = check_reproduces(release, paths, config, changelog, jobs)
    except ReleaseError as err:
        raise click.ClickException(str(err)) from err
    emit_diagnostics(result.sorted(), result.files, result.records, fmt)
    if result.failed():
        click.echo(f"{release} is NOT reproduced by the corpus.", err=True)
        sys.exit(1)
    click.echo(
        f"{release}: rebuilt from the corpus in a temporary folder, byte for byte identical.", err=True
    )


@cli.command("verify")
@click.argument(
    "releases_given", metavar="[RELEASE]...", nargs=-1, type=click.Path(exists=True, file_okay=False)
)
@output_format_option
def verify_command(releases_given: tuple[str, ...], fmt: str) -> None:
    """Check releases: checksums, every record against the release's schema, the JSONL against
    the Parquet, the card's YAML (version, features, num_examples, sizes) against the files and
    against the Hub's documented rules (license, size and task ids, languages, config paths),
    the files the card links to, and croissant.json and datapackage.json against the files.
    Without arguments, every release under dist/.
    Exit code: 0 all good, 1 problems found, 2 usage error.

    \b
    Example:
        newsset verify
        newsset verify dist/zh-local-news/1.0.0
    """
    from builder.release import releases
    from builder.validate import Report
    from builder.verify import verify_release

    targets = list(releases_given) or [
        str(p) for d in sorted(Path(DEFAULT_OUT).glob("*/")) for _, p in releases(d)
    ]
    if not targets:
        raise EnvironmentProblem(f"no releases given and none under {DEFAULT_OUT}/")
    total = Report()
    for target in targets:
        result = verify_release(target)
        total.diagnostics += result.diagnostics
        total.files += result.files
        total.records += result.records
        click.echo(f"{target}: {'PROBLEMS FOUND' if result.failed() else 'ok'}", err=True)
    emit_diagnostics(total.sorted(), total.files, total.records, fmt)
    sys.exit(1 if total.failed() else 0)


@cli.command("diff")
@click.argument("old", type=click.Path(exists=True, file_okay=False))
@click.argument("new", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff_command(old: str, new: str, fmt: str) -> None:
    """Compare two releases: articles added, removed and changed (by id, with the fields),
    schema changes, counts, and the version step the change calls for.

    \b
    Example:
        newsset diff dist/zh-local-news/1.0.0 dist/zh-local-news/1.1.0
    """
    from builder.diff import describe
    from builder.release import diff_releases

    try:
        changes = diff_releases(old, new)
    except (OSError, ValueError) as err:
        raise EnvironmentProblem(f"cannot read the releases: {err}") from err
    if fmt == "json":
        click.echo(json.dumps(changes.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{old} → {new}")
    for line in describe(changes, Path(old).name, limit=None):
        click.echo(f"- {line}")
    click.echo(f"Change: {changes.level} ({changes.reason()})")


@cli.command("extract")
@click.argument("page", type=click.Path(dir_okay=False))
@click.option("--source", help="Publication name as printed, e.g. 今日平湖.  [default: the sidecar's]")
@click.option("--date", help="Issue date, YYYY-MM-DD.  [default: the sidecar's]")
@click.option(
    "--page",
    "page_number",
    type=click.IntRange(min=1),
    help="Page number.  [default: the sidecar's, or pNN.txt]",
)
@click.option("--section", help="Page or section name, e.g. 要闻.  [default: the sidecar's]")
@click.option("--slug", help="Id prefix, e.g. pinghu.  [default: the sidecar's, or raw/<slug>/YYYY/MM/DD/]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "jsonl"]),
    default="md",
    show_default=True,
    help="md: one file per article, as in articles/; jsonl: one record a line.",
)
@click.option(
    "-o",
    "--output",
    "out",
    help="Folder for the drafts, or - for stdout (jsonl only).  [default: articles for md, - for jsonl]",
)
@click.option(
    "--report", "report_path", type=click.Path(dir_okay=False), help="Also write the review report as JSON."
)
def extract_command(
    page: str,
    source: str | None,
    date: str | None,
    page_number: int | None,
    section: str | None,
    slug: str | None,
    fmt: str,
    out: str | None,
    report_path: str | None,
) -> None:
    """Turn the raw text of one newspaper page into draft articles and a review report.

    Page metadata comes from the options or from the sidecar PAGE.json next to the page.
    Drafts get ids in reading order; an existing file is never overwritten (exit 1, nothing
    written), and a page with no article exits 1. The review report (stderr, and JSON with
    --report) gives each article's confidence and why, the bylines it could not attribute,
    and every line that went into no article.

    \b
    Example:
        newsset extract raw/pinghu/2020/11/09/p01.txt -o drafts --report review.json
        newsset extract page.txt --source 今日平湖 --slug pinghu --date 2020-11-09 \\
            --page 1 --section 要闻 --format jsonl -o -
    """
    from builder.extract import ExistsError, ExtractError, MetadataError, MetaOptions, extract_page
    from builder.extract import report as extract_report

    if fmt == "md" and out == "-":
        raise click.UsageError("--format md writes one file per article; use --format jsonl -o - for stdout")
    try:
        given = MetaOptions(source=source, date=date, page=page_number, section=section, slug=slug)
        outcome = extract_page(page, given, fmt=fmt, out=out, report_path=report_path)
    except MetadataError as err:
        raise click.UsageError(str(err)) from err
    except (ExtractError, ExistsError) as err:
        raise click.ClickException(str(err)) from err
    if outcome.stdout:
        click.echo(outcome.stdout, nl=False)
    click.echo(extract_report.to_text(outcome.extraction.review), err=True)
    for path in outcome.written:
        click.echo(f"wrote {path}", err=True)
    if not outcome.extraction.records:
        click.echo(f"{page}: no article found (no dateline, no column of text)", err=True)
        sys.exit(1)


@cli.command("publish")
@click.argument("release", type=click.Path(exists=True, file_okay=False))
@click.option("--repo-id", required=True, metavar="OWNER/NAME", help="The Hugging Face dataset repository.")
@click.option("--dry-run", is_flag=True, help="List exactly what would be uploaded; contact no one.")
def publish_command(release: str, repo_id: str, dry_run: bool) -> None:
    """Push a release to a Hugging Face dataset repository: one commit that makes the repository
    hold exactly the release's files, tagged with the version. The release must verify, and a
    version the repository already has as a tag is refused. The Hub token comes from
    `hf auth login` or HF_TOKEN.
    Exit code: 0 published (or listed), 1 refused, 2 usage error or the Hub unreachable.

    \b
    Example:
        newsset publish dist/zh-local-news/1.1.0 --repo-id my-org/zh-local-news --dry-run
        newsset publish dist/zh-local-news/1.1.0 --repo-id my-org/zh-local-news
    """
    from builder.publish import HubError, PublishError, RepoIdError, publish_release

    try:
        plan, url = publish_release(release, repo_id, dry_run)
    except RepoIdError as err:
        raise click.BadParameter(str(err), param_hint="--repo-id") from err
    except HubError as err:
        raise EnvironmentProblem(str(err)) from err
    except PublishError as err:
        raise click.ClickException(str(err)) from err
    for line in plan.describe():
        click.echo(line)
    if url is None:
        click.echo("Dry run: nothing was uploaded.", err=True)
    else:
        click.echo(f"Published {plan.release} as {url}, tagged {plan.tag}.")


@cli.command("review")
@click.argument("page", type=click.Path(dir_okay=False))
@click.option(
    "--articles",
    default=DEFAULT_ARTICLES,
    show_default=True,
    type=click.Path(file_okay=False),
    help="The folder the drafts are read from and saved to.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1.  [default: a free one]"
)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser; just print its address.")
def review_command(page: str, articles: str, port: int, no_browser: bool) -> None:
    """Check and correct a page's drafts in the browser, against the raw page.

    Serves a review page on 127.0.0.1 only: the raw lines coloured by the article and field
    they went into, and one card per article with its fields, the extractor's confidence and
    the validate diagnostics. Corrections: assign a byline, move lines, split and merge
    articles, mark a title line, edit a field, undo. Save writes the files as extract does;
    it refuses while errors remain (unless saved as a draft) and never overwrites a file
    changed on disk since it was loaded. Page metadata comes from the sidecar PAGE.json.
    Ctrl+C stops the server.

    \b
    Example:
        newsset review raw/pinghu/2020/11/09/p01.txt
        newsset review raw/pinghu/2020/11/09/p01.txt --articles drafts --port 8800 --no-browser
    """
    from builder.extract import ExtractError, MetadataError

    try:
        from builder.review import server
    except ImportError as err:
        raise EnvironmentProblem(
            f"newsset review needs the review extra ({err.name} is missing): pip install 'newsset[review]'"
        ) from err
    try:
        server.run(page, articles, port, open_browser=not no_browser, echo=click.echo)
    except MetadataError as err:
        raise click.UsageError(str(err)) from err
    except ExtractError as err:
        raise click.ClickException(str(err)) from err
    except OSError as err:
        raise EnvironmentProblem(f"cannot serve on 127.0.0.1:{port}: {err.strerror or err}") from err


def main() -> None:
    """Entry point: click handles usage errors (exit 2); an unexpected failure exits 2 too,
    with one line naming it instead of a traceback (NEWSSET_DEBUG=1 shows the traceback).

    At exit, the objects left are moved out of the cyclic collector's reach (`gc.freeze`,
    registered first, so it runs after the exit handlers the command registers) before the
    interpreter's final collections: with pyarrow, pandas and matplotlib loaded those take a
    third of a second, to free memory of a process that is ending. Files are still closed and
    handlers still run.
    """
    atexit.register(gc.freeze)
    try:
        cli(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # the last line of defence: no traceback for users
        if os.environ.get("NEWSSET_DEBUG"):
            raise
        click.echo(
            f"newsset: internal error: {type(err).__name__}: {err} (NEWSSET_DEBUG=1 shows where)", err=True
        )
        sys.exit(2)
