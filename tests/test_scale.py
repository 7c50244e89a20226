"""Validation at scale: the same report whatever the workers and ranges, every injected error
found, and the schema errors equal to those of the plain `jsonschema` reference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from benchmarks import synth
from builder import schema, screens, validate

EXPECTED_RULE = {
    "missing-headline": "S001",
    "unknown-field": "S002",
    "page-as-string": "S003",
    "bad-date": "S007",
    "bad-role": "S006",
    "extra-author-key": "S002",
    "hard-wrap": "C101",
    "doubled-headline": "C102",
    "marker-in-body": "C103",
    "replacement-char": "C104",
    "empty-body": "C105",
    "cjk-spacing": "C201",
    "halfwidth": "C202",
    "duplicate-id": "D301",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str | None]]:
    path = tmp_path_factory.mktemp("synth") / "corpus.jsonl"
    kinds = []
    with path.open("w", encoding="utf-8") as out:
        for record, kind in synth.generate(800, seed=7, error_rate=0.15):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            kinds.append(kind)
    return path, kinds


def test_every_injected_error_is_found(corpus: tuple[Path, list[str | None]]) -> None:
    path, kinds = corpus
    report = validate.validate_paths([path], jobs=1)
    by_line: dict[int, set[str]] = {}
    for d in report.diagnostics:
        by_line.setdefault(d.line, set()).add(d.rule)
    assert set(kinds) - {None} == set(EXPECTED_RULE)
    for line, kind in enumerate(kinds, start=1):
        if kind:
            assert EXPECTED_RULE[kind] in by_line.get(line, set()), (line, kind)


def test_report_does_not_depend_on_workers_or_ranges(
    corpus: tuple[Path, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = corpus
    one = validate.validate_paths([path], jobs=1)
    monkeypatch.setattr(validate, "CHUNK_BYTES", 200_000)  # several byte ranges of one file
    units = validate.plan_units([path])
    assert len(units) > 3
    two = validate.validate_paths([path], jobs=2)
    assert (one.files, one.records) == (two.files, two.records) == (1, 800)
    assert one.sorted() == two.sorted()


def reference_errors(path: Path) -> set[tuple[int, str]]:
    """(line, field pointer) of every error the plain jsonschema loop finds."""
    doc = schema.load()
    checker = jsonschema.Draft202012Validator(
        doc, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found = set()
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for err in checker.iter_errors(json.loads(text)):
            where = "/" + "/".join(map(str, err.absolute_path))
            if err.validator == "required":
                missing = err.message.split("'")[1]
                where = where.rstrip("/") + "/" + missing
            elif err.validator == "additionalProperties":
                allowed = validate.field_spec(doc, list(err.absolute_path)).get("properties", {})
                for extra in sorted(set(err.instance) - set(allowed)):
                    found.add((line, where.rstrip("/") + "/" + extra))
                continue
            found.add((line, where))
    return found


def test_schema_errors_equal_the_jsonschema_reference(corpus: tuple[Path, list[str | None]]) -> None:
    path, _ = corpus
    report = validate.validate_paths([path], jobs=2)
    ours = {(d.line, d.pointer) for d in report.diagnostics if d.rule.startswith("S") and d.rule != "S008"}
    assert ours == reference_errors(path)
    assert len(ours) > 30


def test_near_duplicate_pairs_do_not_depend_on_how_the_sketches_are_chunked(
    corpus: tuple[Path, list[str | None]],
) -> None:
    from builder import neardup

    path, _ = corpus
    bodies = [json.loads(line)["body"] for line in path.read_text(encoding="utf-8").splitlines()]
    bodies += [body[: len(body) // 2] + "又及。" + body[len(body) // 2 :] for body in bodies[:40:3]]
    sketches = neardup.sketches(bodies)
    whole, chunked = neardup.NearDuplicates(), neardup.NearDuplicates()
    whole.add(sketches)
    for part in np.array_split(sketches, 13):
        chunked.add(part)
    found = whole.pairs()
    assert found == chunked.pairs()
    assert {j for _, j, _ in found} >= set(range(800, len(bodies)))  # every reprint is found


def test_a_script_read_from_stdin_can_use_worker_processes(tmp_path: Path) -> None:
    """Workers are forked: they never import the caller's main module, which `python -` (or a
    notebook, or a script without a main guard) does not have as a file."""
    corpus = tmp_path / "corpus.jsonl"
    synth.write_jsonl(corpus, 300, seed=1)
    script = (
        "from builder import validate\n"
        "validate.CHUNK_BYTES = 100_000\n"
        f"report = validate.validate_paths([{str(corpus)!r}], jobs=2, progress=False)\n"
        "print(report.records)\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, text=True, capture_output=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "300"


def built_before(unit: validate.Unit) -> validate.UnitResult:
    """In a worker: were the class table and the fast validator there before its first unit?"""
    return validate.UnitResult(
        output=(screens.table.cache_info().currsize, schema.fast_validator.cache_info().currsize)
    )


def test_worker_processes_share_what_the_parent_prepared(tmp_path: Path) -> None:
    """The screens' class table and the compiled validator are built once, before the workers
    are forked, not once in each of them."""
    screens.table.cache_clear()
    screens.sparse_table.cache_clear()
    schema.fast_validator.cache_clear()
    units = [validate.Unit((str(tmp_path / f"{n}.jsonl"),)) for n in range(4)]
    results = list(validate.run_units(units, 2, built_before))
    assert [r.output for r in results] == [(1, 1)] * 4
