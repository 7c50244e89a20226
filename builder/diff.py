"""What changed between two versions of the dataset, and how big a version step that is.

Records are matched by id; schemas field by field. The change decides the semver step: a field
whose type changes breaks readers (major); added or removed articles or fields are minor;
corrections to records or to the schema's wording and bounds are a patch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from builder import schema
from builder.layout import change_note

LEVELS = ("none", "patch", "minor", "major")
LIST_LIMIT = 100


@dataclass(frozen=True)
class FieldChange:
    """One change to the schema: a field added, removed, retyped, or otherwise changed."""

    name: str
    kind: str  # added | removed | retyped | changed
    detail: str = ""

    @property
    def level(self) -> str:
        return {"retyped": "major", "added": "minor", "removed": "minor"}.get(self.kind, "patch")

    def describe(self) -> str:
        words = {"added": "added", "removed": "removed", "retyped": "type changed", "changed": "changed"}
        return f"{self.name} {words[self.kind]}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Changes:
    """The comparison of an old record set and schema with a new one."""

    old_count: int
    new_count: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    schema_changes: list[FieldChange] = field(default_factory=list)
    dates: tuple[str, str] = ("", "")
    field_names: list[str] = field(default_factory=list)
    first: bool = False
    formats: tuple[int, int] | None = None  # release format before and after, when it changed

    @property
    def level(self) -> str:
        """The smallest semver step that honestly describes the change."""
        found = [c.level for c in self.schema_changes]
        if self.added or self.removed or self.formats:
            found.append("minor")
        if self.changed:
            found.append("patch")
        return max(found, key=LEVELS.index, default="none")

    def reason(self) -> str:
        """Why the change is of its level, in a few words."""
        parts = [c.describe() for c in self.schema_changes if c.level == self.level]
        if self.level == "minor":
            parts += [f"{len(self.added)} added"] if self.added else []
            parts += [f"{len(self.removed)} removed"] if self.removed else []
            parts += [f"release format {self.formats[0]} → {self.formats[1]}"] if self.formats else []
        if self.level == "patch" and self.changed:
            parts.append(f"{len(self.changed)} changed")
        return ", ".join(parts) or "nothing changed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_count": self.old_count,
            "new_count": self.new_count,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "schema": [asdict(c) for c in self.schema_changes],
            "release_format": list(self.formats) if self.formats else None,
            "level": self.level,
        }


def compare(
    old_records: list[dict[str, Any]] | None,
    new_records: list[dict[str, Any]],
    old_schema: dict[str, Any] | None,
    new_schema: dict[str, Any],
    formats: tuple[int, int] | None = None,
) -> Changes:
    """Compare plain records (see build.plain), schemas and release formats (old, new); no old
    side means a first release."""
    first = old_records is None
    old = {r["id"]: r for r in old_records or []}
    new = {r["id"]: r for r in new_records}
    dates = sorted(str(r["date"]) for r in new_records)
    return Changes(
        old_count=len(old),
        new_count=len(new),
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        changed={
            i: differing_keys(old[i], new[i]) for i in sorted(old.keys() & new.keys()) if old[i] != new[i]
        },
        schema_changes=compare_schemas(old_schema, new_schema) if old_schema is not None else [],
        dates=(dates[0], dates[-1]) if dates else ("", ""),
        field_names=schema.field_names(new_schema),
        first=first,
        formats=formats if formats and formats[0] != formats[1] and not first else None,
    )


def differing_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of either dict whose values differ, in order of appearance."""
    return [key for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)]


def compare_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Field by field: added, removed, a new Arrow type (breaking), other edits (bounds, wording)."""
    before = {f.name: f for f in schema.fields(old)}
    after = {f.name: f for f in schema.fields(new)}
    out = [FieldChange(n, "added") for n in after if n not in before]
    out += [FieldChange(n, "removed") for n in before if n not in after]
    for name in (n for n in after if n in before):
        old_type, new_type = schema.arrow_type(before[name].spec), schema.arrow_type(after[name].spec)
        if old_type != new_type:
            out.append(FieldChange(name, "retyped", f"{old_type} → {new_type}"))
            continue
        edits = differing_keys(before[name].spec, after[name].spec)
        if before[name].required != after[name].required:
            edits.append("now required" if after[name].required else "now optional")
        if edits:
            out.append(FieldChange(name, "changed", ", ".join(edits)))
    rest = [k for k in differing_keys(old, new) if k not in ("properties", "required")]
    if rest:
        out.append(FieldChange("(schema)", "changed", ", ".join(rest)))
    return out


def id_list(ids: list[str], limit: int | None = LIST_LIMIT) -> str:
    if not ids:
        return "none"
    if limit is None or len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more (newsset diff lists all)"


def describe(changes: Changes, old_label: str = "", limit: int | None = LIST_LIMIT) -> list[str]:
    """The comparison as Markdown list items, the same in the changelog, the card and `diff`."""
    span = f"from {changes.dates[0]} to {changes.dates[1]}"
    if changes.first:
        return [
            f"First release: {changes.new_count} articles {span}.",
            f"Added ({len(changes.added)}): {id_list(changes.added, limit)}",
            f"Schema: {len(changes.field_names)} fields ({', '.join(changes.field_names)})",
        ]
    was = f" (was {changes.old_count}" + (f" in {old_label})" if old_label else ")")
    changed = [f"{i} ({', '.join(fields)})" for i, fields in changes.changed.items()]
    schema_text = "; ".join(c.describe() for c in changes.schema_changes) or "unchanged"
    lines = [
        f"{changes.new_count} articles {span}{was}.",
        f"Added ({len(changes.added)}): {id_list(changes.added, limit)}",
        f"Removed ({len(changes.removed)}): {id_list(changes.removed, limit)}",
        f"Changed ({len(changes.changed)}): {id_list(changed, limit)}",
        f"Schema: {schema_text}",
    ]
    if changes.formats:
        lines.append(f"Release format: {change_note(*changes.formats)}")
    return lines
