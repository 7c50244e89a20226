"""A diagnostic: one problem at one place, with a stable rule id and a hint how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem. Sorted by file, line, column, rule, so reports are stable."""

    file: str
    line: int
    col: int
    rule: str
    severity: str
    message: str
    hint: str = ""
    name: str = ""
    pointer: str = ""
    record: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR
