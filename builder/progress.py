"""A one-line progress display for long runs: shown on a terminal, silent in CI and in pipes."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Counts files, records and bytes; redraws one line on stderr at most ten times a second."""

    def __init__(
        self,
        total_bytes: int,
        label: str = "validated",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = shows_progress(self.stream) if enabled is None else enabled
        self.total = total_bytes
        self.label = label
        self.files = self.records = self.done = 0
        self.started = self.drawn = time.monotonic()

    def update(self, files: int, records: int, done_bytes: int) -> None:
        self.files += files
        self.records += records
        self.done += done_bytes
        now = time.monotonic()
        if self.enabled and (now - self.drawn >= 0.1 or self.done >= self.total):
            self.drawn = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()

    def line(self, now: float) -> str:
        seconds = max(now - self.started, 1e-9)
        share = f" {self.done / self.total:4.0%}" if self.total else ""
        return (
            f"{self.label}{share}  {self.records:,} records  {self.files:,} files  "
            f"{self.done / 1e6:,.1f} MB  {self.done / 1e6 / seconds:,.1f} MB/s"
        )

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def shows_progress(stream: TextIO) -> bool:
    """On a terminal only, and never in CI (where CI is set) or with NEWSSET_NO_PROGRESS."""
    if os.environ.get("CI") or os.environ.get("NEWSSET_NO_PROGRESS"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()
