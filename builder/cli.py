"""The `newsset` command: a thin click skin over the library.

Each command parses its options, calls one library function, prints what it returns and picks
the exit code: 0 clean, 1 problems found, 2 usage or environment error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from builder import __version__, report
from builder.catalog import rules_table
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
@click.option("--markdown", is_flag=True, help="Print the table in Markdown, as in the README.")
def list_rules(markdown: bool) -> None:
    """List every rule: id, name, severity, whether `newsset fix` fixes it, and what it checks.

    \b
    Example:
        newsset rules
        newsset rules --markdown
    """
    click.echo(rules_table(markdown))


def main() -> None:
    """Entry point: click handles usage errors (exit 2); an unexpected failure exits 2 too,
    with one line naming it instead of a traceback (NEWSSET_DEBUG=1 shows the traceback)."""
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
