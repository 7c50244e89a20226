"""The releases committed under dist/: each verifies, and the README's main command rebuilds the
newest one from the corpus byte for byte."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from builder import card
from builder.release import releases
from builder.verify import verify_release

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
COMMITTED = [path for folder in sorted(DIST.iterdir()) if folder.is_dir() for _, path in releases(folder)]


def test_the_first_release_is_committed():
    assert DIST / "zh-local-news" / "1.0.0" in COMMITTED


@pytest.mark.parametrize("release", COMMITTED, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_every_committed_release_verifies(release):
    report = verify_release(release)
    assert report.diagnostics == []
    assert report.records > 0


def test_the_readme_main_command_reproduces_the_newest_release():
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert blocks[:2] == [
        "pip install -e '.[release]' && newsset build --check",
        "pip install -e '.[test]' && python -m pytest",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "builder", "build", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    newest = COMMITTED[-1].relative_to(ROOT)
    assert (
        f"{newest}: rebuilt from the corpus in a temporary folder, byte for byte identical." in result.stderr
    )


def test_the_release_extra_pins_the_toolchain_of_the_newest_release():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = dict(pin.split("==") for pin in extras["optional-dependencies"]["release"])
    assert pins == card.read_metadata(COMMITTED[-1] / "README.md")["built_with"]
