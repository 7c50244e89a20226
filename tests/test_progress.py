"""The progress line: drawn on a terminal, silent in CI and in pipes."""

from __future__ import annotations

import io

import pytest

from builder.progress import Progress, shows_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_counts_records_files_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = Terminal()
    shown = Progress(2_000_000, stream=out)
    shown.update(1, 1200, 1_000_000)
    shown.update(1, 800, 1_000_000)
    shown.close()
    text = out.getvalue()
    assert "validated 100%  2,000 records  2 files  2.0 MB" in text
    assert text.endswith("\r\x1b[K")


def test_silent_in_ci_and_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert not shows_progress(Terminal())
    monkeypatch.delenv("CI")
    assert shows_progress(Terminal())
    assert not shows_progress(io.StringIO())
    pipe = io.StringIO()
    Progress(10, stream=pipe).update(1, 1, 10)
    assert pipe.getvalue() == ""
