"""Release versions: MAJOR.MINOR.PATCH, and the steps that raise them.

Apart from the release machinery so that the command line can name the steps without
importing what builds a release.
"""

from __future__ import annotations

import re

VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
BUMPS = ("major", "minor", "patch")
FIRST_VERSION = (1, 0, 0)

Version = tuple[int, int, int]


def parse(text: str) -> Version:
    """The version a folder name or option gives; ValueError for anything else."""
    match = VERSION_RE.match(text)
    if not match:
        raise ValueError(f"version {text!r} is not of the form MAJOR.MINOR.PATCH, e.g. 1.0.0")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def version_text(version: Version) -> str:
    return ".".join(map(str, version))


def bumped(version: Version, level: str) -> Version:
    major, minor, patch = version
    if level == "major":
        return major + 1, 0, 0
    if level == "minor":
        return major, minor + 1, 0
    return major, minor, patch + 1


def step_of(old: Version, new: Version) -> str:
    """Which part a version step raised: major, minor or patch."""
    if new[0] != old[0]:
        return "major"
    return "minor" if new[1] != old[1] else "patch"
