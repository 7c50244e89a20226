"""The `newsset` command: a thin click skin over the library.

Each command parses its options, calls one library function, prints what it returns and picks
the exit code: 0 clean, 1 problems found, 2 usage or environment error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from builder import __version__, report
from builder.catalog import RULES
from builder.extract import ExistsError, ExtractError, MetadataError, MetaOptions, extract_page
from builder.extract import report as extract_report
from builder.fix import fix_paths
from builder.validate import validate_paths

DEFAULT_ARTICLES = "articles"


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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@output_format_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check article files (.md and .jsonl, files or folders) against the schema and rules.

    Every problem is reported with file, line, column, rule id and a hint.
    Exit code: 0 clean, 1 problems found, 2 usage error.

    \b
    Example:
        newsset validate
        newsset validate articles/2020/11/09 --strict --format github
    """
    result = validate_paths(default_paths(paths))
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
def list_rules() -> None:
    """List every rule: id, name, severity, whether `newsset fix` fixes it, and what it checks.

    \b
    Example:
        newsset rules
    """
    for spec in RULES.values():
        fixable = "fix" if spec.fixable else "   "
        click.echo(f"{spec.id}  {spec.name:<24} {spec.severity:<8} {fixable}  {spec.summary}")


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


def main() -> None:
    """Entry point: click handles usage errors (exit 2); anything else unexpected exits 2 too."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
