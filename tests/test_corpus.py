"""The corpus checks run from disk: duplicate ids (D301), identical bodies (D302) and
near-duplicates (D303) are found with their keys in files, grouped a part of the key range at a
time, and give the diagnostics, in the order, that grouping everything in memory gives."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import synth
from builder import keyfiles, neardup, validate

COUNT = 3000
SAME_ID = {2000: 10, 2100: 1500, 2900: 10}  # later record: the earlier one whose id it takes
SAME_BODY = {1200: 40, 2500: 2499}
REPRINT = {1800: 300, 2950: 2000}  # a small edit in the middle


def reprinted(body: str) -> str:
    return body[: len(body) // 2] + "又及。" + body[len(body) // 2 :]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """Two JSONL files; their records are lines 1..1500 of a.jsonl and 1..1500 of b.jsonl."""
    records = [rec for rec, _ in synth.generate(COUNT, seed=5)]
    for later, first in SAME_ID.items():
        records[later]["id"] = records[first]["id"]
    for later, first in SAME_BODY.items():
        records[later]["body"] = records[first]["body"]
    for later, first in REPRINT.items():
        records[later]["body"] = reprinted(records[first]["body"])
    folder = tmp_path_factory.mktemp("corpus")
    for name, part in (("a.jsonl", records[:1500]), ("b.jsonl", records[1500:])):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
        (folder / name).write_text(text, encoding="utf-8")
    return folder, records


def where(folder: Path, n: int) -> tuple[str, int]:
    return str(folder / ("a.jsonl" if n < 1500 else "b.jsonl")), n % 1500 + 1


def corpus_rules(report: validate.Report) -> list[tuple[str, str, int, str]]:
    return [(d.rule, d.file, d.line, d.message) for d in report.diagnostics if d.rule.startswith("D3")]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def ours(scratch: Path) -> list[Path]:
    """newsset's folders in TMPDIR (not those of multiprocessing, `pymp-*`)."""
    return [p for p in scratch.iterdir() if p.name.startswith("newsset-")]


def test_spilled_checks_find_every_injected_duplicate(
    corpus: tuple[Path, list[dict[str, Any]]], scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, records = corpus
    monkeypatch.setattr(validate, "CHUNK_BYTES", 1 << 20)  # a dozen units, in two processes
    in_memory = validate.validate_paths([folder], jobs=2)
    monkeypatch.setattr(keyfiles, "PART_ROWS", 100)  # 32 parts of the key range, sorted apart
    monkeypatch.setattr(keyfiles, "CHUNK_ROWS", 77)  # and sketches read in windows of 77 rows
    monkeypatch.setattr(neardup, "PAIR_BATCH", 3)  # compared three candidate pairs at a time
    spilled = validate.validate_paths([folder], jobs=2)
    assert ours(scratch) == []  # the keys' folder is gone
    assert in_memory.records == spilled.records == COUNT
    assert len(validate.plan_units([folder])) > 8
    found = corpus_rules(spilled)
    assert found == corpus_rules(in_memory)  # the same diagnostics, in the same order

    expected = []
    for later, first in SAME_ID.items():
        path, line = where(folder, first)
        expected.append(
            ("D301", *where(folder, later), f"id {records[first]['id']} is also used in {path}:{line}")
        )
    for later, first in SAME_BODY.items():
        message = f"the body is identical to that of {records[first]['id']} ({where(folder, first)[0]})"
        expected.append(("D302", *where(folder, later), message))
    assert sorted(f for f in found if f[0] != "D303") == sorted(expected)
    near = [(rule, path, line) for rule, path, line, _ in found if rule == "D303"]
    assert near == [("D303", *where(folder, later)) for later in sorted(REPRINT)]
    for later, first in REPRINT.items():
        message = next(m for _, path, line, m in found if (path, line) == where(folder, later))
        assert re.match(r"the body is nearly identical \(about (9\d|100)%\)", message), message
        assert message.endswith(f"to that of {records[first]['id']} ({where(folder, first)[0]})")


def test_the_keys_folder_goes_on_error(
    corpus: tuple[Path, list[dict[str, Any]]], scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = corpus
    monkeypatch.setattr(validate, "CHUNK_BYTES", 1 << 20)
    units = validate.plan_units([folder])
    seen = []

    def fail_late(unit: validate.Unit) -> validate.UnitResult:
        if len(seen) == 3:
            assert [p.name.split("-")[1] for p in ours(scratch)] == ["keys"]
            raise RuntimeError("a unit failed")
        seen.append(unit)
        return validate.check_unit(unit)

    with pytest.raises(RuntimeError, match="a unit failed"):
        validate.check_units(units, fail_late, jobs=1)
    assert ours(scratch) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=40))
def test_sorted_pairs_pair_each_repeat_with_the_first_of_its_key(values: list[int]) -> None:
    """Each later row of a non-zero key with the earliest row of that key, in key order."""
    keys = np.array(values, dtype=np.uint64)
    rows = np.arange(len(keys), dtype=np.int64) * 3  # rows numbered apart from positions
    first, later = keyfiles.sorted_pairs(keys, rows)
    expected = []
    for key in sorted(set(values) - {0}):
        at = [3 * i for i, v in enumerate(values) if v == key]
        expected += [(at[0], other) for other in at[1:]]
    assert list(zip(first.tolist(), later.tolist(), strict=True)) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 5), st.integers(0, 2**64 - 1), st.sampled_from([2**16, 2**32 + 1, 2**48 - 1])
        ),
        max_size=60,
    )
)
def test_the_radix_order_is_numpys_stable_order(values: list[int]) -> None:
    """`keyfiles.stable_order` is `np.argsort(kind="stable")`, ties kept in place, on keys
    that differ in any of their four 16-bit digits."""
    keys = np.array(values, dtype=np.uint64)
    assert keyfiles.stable_order(keys).tolist() == np.argsort(keys, kind="stable").tolist()
