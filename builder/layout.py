"""The release format: which files a release carries besides its data.

The format a release was written in is recorded in its card's YAML (`release_format`); a card
without the key is format 1. `newsset build` writes the newest format; `newsset verify` expects
of each release the files of the format it records, so older releases stay valid as they are.
A new format adds files and changes no data, so moving to it is a minor version step.
"""

from __future__ import annotations

RELEASE_FORMAT = 2
FORMAT_KEY = "release_format"
CROISSANT_FILE = "croissant.json"
DATAPACKAGE_FILE = "datapackage.json"
PLOTS_DIR = "plots"

FORMATS = {
    1: "Parquet and JSON Lines shards, the card, a copy of the schema and SHA256SUMS",
    2: f"adds {CROISSANT_FILE} (Croissant 1.1), {DATAPACKAGE_FILE} (Data Package v2) "
    f"and the card's statistics plots under {PLOTS_DIR}/",
}

# The files (beside the data, card, schema copy and SHA256SUMS) that a format requires.
REQUIRED = {1: (), 2: (CROISSANT_FILE, DATAPACKAGE_FILE)}


def format_of(meta: dict) -> int | None:
    """The release format a card's YAML records (1 when absent); None if it is not a known one."""
    value = meta.get(FORMAT_KEY, 1)
    return value if isinstance(value, int) and value in FORMATS else None


def change_note(old: int, new: int) -> str:
    """`1 → 2 (adds …)`: a format change in a few words, for the changelog and `diff`."""
    added = "; ".join(FORMATS[f] for f in range(old + 1, new + 1) if f in FORMATS)
    return f"{old} → {new}" + (f" ({added})" if added and new > old else "")
