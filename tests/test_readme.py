"""The README's tables are generated from the schema and the rule catalogue, and stay so."""

from __future__ import annotations

import re

from builder import schema
from builder.catalog import rules_table
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"^```sh\n(.*?)\n```$", README, flags=re.M | re.S)
    assert README.startswith("# newsset\n\n```sh\n")
    assert blocks[1] == "pip install -e '.[test]' && python -m pytest"
    assert blocks[0] == "pip install -e '.[release]' && newsset build --check"


def test_field_table_matches_the_schema() -> None:
    assert schema.field_table() in README


def test_rule_table_matches_the_catalogue() -> None:
    assert rules_table(markdown=True) in README
