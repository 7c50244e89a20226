"""`newsset validate` through the CLI: formats, exit codes, strictness, corpus checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ARTICLES, REPO, run, valid_record, write_jsonl, write_md
from tests.test_rules import OTHER_BODY


def broken_folder(tmp_path: Path) -> Path:
    write_md(tmp_path, valid_record(headline="平湖庆祝记者节平湖庆祝记者节"))  # error C102 on line 7
    other = valid_record(id="pinghu-20201109-p01-05", kicker="省食 药 监 局", body=OTHER_BODY)
    write_md(tmp_path, other, "w.md")  # C201
    return tmp_path


def test_bundled_corpus_is_clean_under_strict() -> None:
    result = run("validate", ARTICLES, "--strict")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "Checked 6 files, 6 records: 0 errors, 0 warnings."


def test_text_format_lists_every_problem_with_position_and_hint(tmp_path: Path) -> None:
    folder = broken_folder(tmp_path)
    result = run("validate", folder)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{folder}/pinghu-20201109-p01-02.md:7:1  error  C102  headline is printed twice: "
        "'平湖庆祝记者节平湖庆祝记者节'  (keep one copy: 平湖庆祝记者节)",
        f"{folder}/w.md:7:1  warning  C201  kicker has spaces between CJK characters: '省食 药 监'  "
        "(delete the spaces (newsset fix does it))",
    ]
    assert "1 error, 1 warning" in result.stderr


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    write_md(tmp_path, valid_record(kicker="省食 药 监 局"))
    assert run("validate", tmp_path).exit_code == 0
    assert run("validate", tmp_path, "--strict").exit_code == 1


def test_json_format_is_one_document(tmp_path: Path) -> None:
    result = run("validate", broken_folder(tmp_path), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"files": 2, "records": 2, "errors": 1, "warnings": 1}
    first = doc["diagnostics"][0]
    assert {k: first[k] for k in ("line", "col", "severity", "rule", "name", "pointer", "record")} == {
        "line": 7,
        "col": 1,
        "severity": "error",
        "rule": "C102",
        "name": "doubled-headline",
        "pointer": "/headline",
        "record": "pinghu-20201109-p01-02",
    }
    assert first["file"].endswith("pinghu-20201109-p01-02.md")


def test_github_format_gives_annotations(tmp_path: Path) -> None:
    result = run("validate", broken_folder(tmp_path), "--format", "github")
    assert result.exit_code == 1
    first, second = result.stdout.splitlines()
    assert first.startswith(
        f"::error file={tmp_path}/pinghu-20201109-p01-02.md,line=7,col=1,title=C102 doubled-headline::"
    )
    assert second.startswith("::warning file=")


def test_github_annotation_escapes_newlines_and_commas(tmp_path: Path) -> None:
    from builder.diagnostics import Diagnostic
    from builder.report import format_github

    diag = Diagnostic("a,b:c.md", 3, 1, "C101", "error", "line one\nline two", "", "hard-wrap")
    assert (
        format_github([diag])
        == "::error file=a%2Cb%3Ac.md,line=3,col=1,title=C101 hard-wrap::line one%0Aline two"
    )


def test_mixed_files_and_folders(tmp_path: Path) -> None:
    md = write_md(tmp_path, valid_record())
    sub = tmp_path / "more"
    sub.mkdir()
    write_jsonl(
        sub,
        [
            valid_record(
                id="pinghu-20201109-p01-10",
                body="本报讯 另一篇稿件的正文，长度足够，不会被当作过短的正文。内容照录。",
            )
        ],
    )
    result = run("validate", md, sub, "--format", "json")
    assert json.loads(result.stdout)["summary"]["records"] == 2
    assert result.exit_code == 0


def test_corpus_rules_name_both_files(tmp_path: Path) -> None:
    write_md(tmp_path, valid_record(), "a.md")
    write_jsonl(tmp_path, [valid_record()], "b.jsonl")
    result = run("validate", tmp_path)
    assert result.exit_code == 1
    assert f"D301  id pinghu-20201109-p01-02 is also used in {tmp_path}/a.md:2" in result.stdout
    assert "D302  the body is identical to that of pinghu-20201109-p01-02" in result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate", "--format", "xml").exit_code == 2
    assert run("validate", "--no-such-option").exit_code == 2


def test_missing_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "nope.md")
    assert result.exit_code == 1
    assert "F005" in result.stdout and "no such file or folder" in result.stdout


def test_default_path_is_the_articles_folder() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "builder", "validate", "--strict"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Checked 6 files, 6 records" in proc.stderr


def test_no_articles_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "builder", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "no 'articles/' folder here" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_rules_command_lists_every_rule() -> None:
    from builder.catalog import RULES

    result = run("rules")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(RULES)
