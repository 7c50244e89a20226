"""`newsset extract` end to end on the seed page, through the CLI, against the hand-cleaned corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.json as pj
import pytest
from click.testing import CliRunner

from builder import schema, sources
from builder.cli import cli
from builder.validate import validate_paths

SEED = Path("raw/pinghu/2020/11/09/p01.txt")
REFERENCE = Path("articles/2020/11/09")
UNATTRIBUTED = ["记者 冯思家", "记者 金睿敏", "记者 华婷婷 通讯员 倪春军 凌真烈"]


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repo root, so that the page is named by its relative path as users do."""
    monkeypatch.chdir(repo)
    return repo


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["extract", *args], catch_exceptions=False)


def read_records(folder: Path) -> dict[str, dict]:
    found = {}
    for name in sources.iter_article_files([folder]):
        result = sources.read_path(name)
        assert result.diagnostics == [], name
        for src in result.sources:
            found[Path(name).name] = src.data
    return found


def test_seed_page_gives_the_hand_cleaned_articles(in_repo: Path, tmp_path: Path) -> None:
    result = run(str(SEED), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    drafts = read_records(tmp_path)
    reference = read_records(REFERENCE)
    assert sorted(drafts) == sorted(reference) == [f"pinghu-20201109-p01-0{i}.md" for i in range(1, 7)]
    for name, expected in reference.items():
        assert drafts[name] == expected, name


def test_seed_paragraphs_and_ids_in_reading_order(in_repo: Path, tmp_path: Path) -> None:
    run(str(SEED), "-o", str(tmp_path))
    raw = SEED.read_text(encoding="utf-8").split("\n")
    starts = []
    for number in range(1, 7):
        name = f"pinghu-20201109-p01-0{number}.md"
        (draft,) = sources.read_path(tmp_path / "2020/11/09" / name).sources
        (ref,) = sources.read_path(REFERENCE / name).sources
        assert [p.text for p in draft.paragraphs] == [p.text for p in ref.paragraphs]
        first = draft.paragraphs[0].text
        starts.append(
            next(i for i, line in enumerate(raw) if line.strip() and first.startswith(line.strip()))
        )
    assert starts == sorted(starts) == [2, 80, 173, 258, 337, 406]


def test_seed_bodies_hold_no_byline_marker_or_caption(in_repo: Path, tmp_path: Path) -> None:
    run(str(SEED), "-o", str(tmp_path))
    for data in read_records(tmp_path).values():
        assert "■" not in data["body"]
        assert "今平湖客户端" not in data["body"]
        for name in UNATTRIBUTED:
            assert name.split()[1] not in data["body"]


def test_seed_drafts_pass_validate(in_repo: Path, tmp_path: Path) -> None:
    run(str(SEED), "-o", str(tmp_path))
    report = validate_paths([tmp_path])
    assert (report.files, report.records, report.errors, report.warnings) == (6, 6, 0, 0)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--strict"])
    assert result.exit_code == 0, result.output


def test_report_lists_unattributed_bylines_and_the_caption(in_repo: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "review.json"
    result = run(str(SEED), "-o", str(tmp_path / "drafts"), "--report", str(report_file))
    assert result.exit_code == 0
    doc = json.loads(report_file.read_text(encoding="utf-8"))
    assert [b["byline"] for b in doc["unattributed_bylines"]] == UNATTRIBUTED
    assert [b["lines"] for b in doc["unattributed_bylines"]] == [[76, 76], [460, 460], [462, 463]]
    assert doc["unassigned_lines"] == [{"line": 336, "text": "今平湖客户端", "reason": "caption or logo"}]
    assert doc["summary"] == {"lines": 464, "articles": 6, "unattributed_bylines": 3, "unassigned_lines": 1}
    assert [a["id"] for a in doc["articles"]] == [f"pinghu-20201109-p01-0{i}" for i in range(1, 7)]
    for art in doc["articles"]:
        assert 0.0 <= art["confidence"] <= 1.0
        assert art["reasons"]
    # Article 01's title is printed after article 02's: the report says so and lowers confidence.
    first = doc["articles"][0]
    assert first["lines"] == {"byline": [1, 1], "kicker": [168, 169], "headline": [171, 172], "body": [3, 75]}
    assert any("printed after article 02" in r for r in first["reasons"])
    assert first["confidence"] < doc["articles"][2]["confidence"]


def test_report_accounts_for_every_line(in_repo: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "review.json"
    run(str(SEED), "-o", str(tmp_path / "drafts"), "--report", str(report_file))
    doc = json.loads(report_file.read_text(encoding="utf-8"))
    covered: set[int] = set()
    for art in doc["articles"]:
        for first, last in art["lines"].values():
            covered.update(range(first, last + 1))
    for byline in doc["unattributed_bylines"]:
        covered.update(range(byline["lines"][0], byline["lines"][1] + 1))
    covered.update(u["line"] for u in doc["unassigned_lines"])
    raw = SEED.read_text(encoding="utf-8").split("\n")
    text_lines = {n for n, line in enumerate(raw, start=1) if line.strip()}
    assert text_lines <= covered


def test_report_on_stderr(in_repo: Path, tmp_path: Path) -> None:
    result = run(str(SEED), "-o", str(tmp_path))
    assert result.stdout == ""
    assert "6 articles, 3 unattributed bylines, 1 unassigned lines" in result.stderr
    for byline, line in zip(UNATTRIBUTED, (76, 460, 462), strict=True):
        assert f"{SEED}:{line}  {byline}" in result.stderr
    assert f"{SEED}:336  caption or logo: 今平湖客户端" in result.stderr
    assert "pinghu-20201109-p01-04  confidence" in result.stderr


def test_refuses_to_overwrite_and_writes_nothing(in_repo: Path, tmp_path: Path) -> None:
    existing = tmp_path / "2020/11/09/pinghu-20201109-p01-03.md"
    existing.parent.mkdir(parents=True)
    existing.write_text("keep me\n", encoding="utf-8")
    result = run(str(SEED), "-o", str(tmp_path), "--report", str(tmp_path / "review.json"))
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.stderr and "pinghu-20201109-p01-03.md" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["pinghu-20201109-p01-03.md"]
    assert existing.read_text(encoding="utf-8") == "keep me\n"


def test_second_run_refuses(in_repo: Path, tmp_path: Path) -> None:
    assert run(str(SEED), "-o", str(tmp_path)).exit_code == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    again = run(str(SEED), "-o", str(tmp_path))
    assert again.exit_code == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == before


def test_jsonl_on_stdout_in_schema_order(in_repo: Path, tmp_path: Path) -> None:
    result = run(str(SEED), "--format", "jsonl", "-o", "-")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    order = schema.field_names()
    reference = read_records(REFERENCE)
    for line in lines:
        record = json.loads(line)
        keys = list(record)
        assert keys == [k for k in order if k in record]
        assert record == reference[record["id"] + ".md"]
    out = tmp_path / "page.jsonl"
    out.write_text(result.stdout, encoding="utf-8")
    table = pj.read_json(out)
    assert table.column("id").to_pylist() == [f"pinghu-20201109-p01-0{i}" for i in range(1, 7)]
    assert table.column("byline").to_pylist()[:2] == ["记者 胡佳英", "记者 李雨婷 摄影 王强"]
    report = validate_paths([out])
    assert (report.records, report.errors, report.warnings) == (6, 0, 0)


def test_jsonl_to_a_folder(in_repo: Path, tmp_path: Path) -> None:
    result = run(str(SEED), "--format", "jsonl", "-o", str(tmp_path))
    assert result.exit_code == 0
    written = tmp_path / "2020/11/09/pinghu-20201109-p01.jsonl"
    assert [r.data["id"] for r in sources.read_path(written).sources][-1] == "pinghu-20201109-p01-06"
    assert validate_paths([tmp_path]).errors == 0


def test_markdown_to_stdout_is_a_usage_error(in_repo: Path) -> None:
    result = run(str(SEED), "-o", "-")
    assert result.exit_code == 2
    assert "--format jsonl" in result.stderr


def test_same_input_gives_identical_files(in_repo: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        run(str(SEED), "-o", str(tmp_path / name), "--report", str(tmp_path / f"{name}.json"))
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.md")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.md")}
    assert first == second and len(first) == 6
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert str(tmp_path) not in (tmp_path / "a.json").read_text(encoding="utf-8")


# --- page metadata -------------------------------------------------------------------------


def copy_page(repo: Path, folder: Path, sidecar: dict | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "p01.txt"
    shutil.copyfile(repo / SEED, page)
    if sidecar is not None:
        page.with_suffix(".json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    return page


def test_metadata_from_flags_without_sidecar(repo: Path, tmp_path: Path) -> None:
    page = copy_page(repo, tmp_path / "in", None)
    out = tmp_path / "out"
    result = run(
        str(page),
        *("--source", "今日平湖", "--slug", "pinghu", "--date", "2020-11-09"),
        *("--page", "1", "--section", "要闻", "-o", str(out)),
    )
    assert result.exit_code == 0, result.output
    assert read_records(out) == read_records(repo / REFERENCE)


def test_missing_metadata_is_a_usage_error_naming_what_to_give(repo: Path, tmp_path: Path) -> None:
    page = copy_page(repo, tmp_path / "in", None)
    result = run(str(page), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "--source" in result.stderr and str(page) in result.stderr
    assert not (tmp_path / "out").exists()
    bad_date = run(
        str(page), "--source", "今日平湖", "--slug", "x", "--date", "2020-02-30", "--section", "要闻"
    )
    assert bad_date.exit_code == 2 and "2020-02-30" in bad_date.stderr


def test_flags_override_the_sidecar_and_slug_comes_from_the_raw_layout(repo: Path, tmp_path: Path) -> None:
    side = json.loads((repo / SEED.with_suffix(".json")).read_text(encoding="utf-8"))
    del side["slug"]
    page = copy_page(repo, tmp_path / "raw/pinghu/2020/11/09", side)
    out = tmp_path / "out"
    result = run(str(page), "--section", "头版", "-o", str(out))
    assert result.exit_code == 0, result.output
    drafts = read_records(out)
    assert sorted(drafts) == [f"pinghu-20201109-p01-0{i}.md" for i in range(1, 7)]
    assert {d["section"] for d in drafts.values()} == {"头版"}
    assert {d["source"] for d in drafts.values()} == {"今日平湖"}


def test_page_that_is_not_utf8_is_reported_with_file_and_line(tmp_path: Path) -> None:
    page = tmp_path / "p02.txt"
    page.write_bytes("本报讯 第一行\n第二行文字".encode("gb18030"))
    result = run(
        str(page), "--source", "今日平湖", "--slug", "pinghu", "--date", "2020-11-09", "--section", "要闻"
    )
    assert result.exit_code == 1
    assert f"{page}:1:" in result.stderr and "GB18030" in result.stderr
    assert "Traceback" not in result.output


def test_missing_page_file(tmp_path: Path) -> None:
    result = run(
        str(tmp_path / "nope.txt"),
        "--source",
        "x",
        "--slug",
        "x",
        "--date",
        "2020-11-09",
        "--section",
        "要闻",
        "--page",
        "1",
    )
    assert result.exit_code == 1
    assert "nope.txt" in result.stderr and "cannot read" in result.stderr


def test_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(cli, ["extract", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    description = result.output.split("Options:")[0].rstrip().splitlines()
    assert "Example:" in description[-4] and description[-1].strip().startswith("--page 1")


def test_page_without_articles_exits_1_and_lists_its_lines(tmp_path: Path) -> None:
    page = tmp_path / "p03.txt"
    page.write_text("第C03版:今日平湖报\n\n今平湖客户端\n", encoding="utf-8")
    result = run(
        str(page), "--source", "今日平湖", "--slug", "pinghu", "--date", "2020-11-09", "--section", "要闻"
    )
    assert result.exit_code == 1
    assert "no article found" in result.stderr
    assert f"{page}:1  page header: 第C03版:今日平湖报" in result.stderr
    assert f"{page}:3  text before the first article: 今平湖客户端" in result.stderr
