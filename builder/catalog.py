"""Every rule's stable id, short name, severity and default hint, in one table.

Ids never change meaning once released: `F` file, `S` schema, `C` content, `D` corpus,
`R` release (checked by `newsset verify` and `newsset build --check`).
The README's rule table and `newsset rules` are printed from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.diagnostics import ERROR, WARNING, Diagnostic


@dataclass(frozen=True)
class RuleSpec:
    id: str
    name: str
    severity: str
    summary: str
    hint: str
    fixable: bool = False


_SPECS = [
    RuleSpec("F001", "not-utf8", ERROR, "file is not UTF-8", "re-save the file as UTF-8"),
    RuleSpec(
        "F002",
        "front-matter",
        ERROR,
        "missing or broken YAML front matter",
        "start the file with '---', one 'field: value' per line, then '---' and the body",
    ),
    RuleSpec(
        "F003",
        "invalid-json",
        ERROR,
        "a JSONL line that is not a JSON object",
        "write one JSON object per line",
    ),
    RuleSpec(
        "F004", "duplicate-key", ERROR, "a field given twice in the front matter", "keep one of the two lines"
    ),
    RuleSpec("F005", "unreadable", ERROR, "a path that cannot be read", "check the path"),
    RuleSpec("S001", "missing-field", ERROR, "a required field is missing", "add the field"),
    RuleSpec("S002", "unknown-field", ERROR, "a field the schema does not know", "remove it or fix its name"),
    RuleSpec("S003", "wrong-type", ERROR, "a value of the wrong type", "give a value of the right type"),
    RuleSpec("S004", "bad-format", ERROR, "a value not in the required format", "follow the format"),
    RuleSpec(
        "S005",
        "out-of-bounds",
        ERROR,
        "a value too short, too long, too small or too large",
        "keep the value within its bounds",
    ),
    RuleSpec("S006", "bad-value", ERROR, "a value not among the allowed ones", "use an allowed value"),
    RuleSpec(
        "S007",
        "invalid-date",
        ERROR,
        "a date that is not a real calendar date",
        "write a real date as YYYY-MM-DD",
    ),
    RuleSpec(
        "S008",
        "id-mismatch",
        ERROR,
        "the id's date or page disagrees with the record",
        "make the id's date and page label match the date and page fields",
    ),
    RuleSpec(
        "C101",
        "hard-wrap",
        ERROR,
        "lines of a paragraph still hard-wrapped at the column width",
        "join the lines of the paragraph into one (newsset fix does it)",
        fixable=True,
    ),
    RuleSpec(
        "C102",
        "doubled-headline",
        ERROR,
        "a bold title the PDF printed twice (XX as XXXX)",
        "keep one copy of the title",
    ),
    RuleSpec(
        "C103",
        "byline-in-body",
        ERROR,
        "a byline or ■ marker left in the body",
        "move the byline to the 'byline' field and delete it from the body",
    ),
    RuleSpec(
        "C104",
        "bad-character",
        ERROR,
        "U+FFFD, a control character or an invisible mark",
        "replace it with the character printed on the page",
    ),
    RuleSpec("C105", "empty-body", ERROR, "the body has no text", "add the article's text"),
    RuleSpec(
        "C106",
        "byline-without-name",
        ERROR,
        "a role in the byline with no name after it",
        "add the name after the role, or remove the role",
    ),
    RuleSpec(
        "C201",
        "cjk-spacing",
        WARNING,
        "justification spaces between CJK characters",
        "delete the spaces (newsset fix does it)",
        fixable=True,
    ),
    RuleSpec(
        "C202",
        "halfwidth-punctuation",
        WARNING,
        "half-width punctuation inside Chinese text",
        "use the full-width mark (newsset fix does it)",
        fixable=True,
    ),
    RuleSpec(
        "C203",
        "unbalanced-brackets",
        WARNING,
        "a quote or bracket without its partner",
        "check the page and add or remove the mark",
    ),
    RuleSpec(
        "C204",
        "not-nfc",
        WARNING,
        "text not in Unicode NFC",
        "normalise to NFC (newsset fix does it)",
        fixable=True,
    ),
    RuleSpec(
        "C205", "short-body", WARNING, "a suspiciously short body", "check that the whole article was copied"
    ),
    RuleSpec(
        "C206",
        "long-headline",
        WARNING,
        "a suspiciously long headline",
        "check that body text did not slip into the headline",
    ),
    RuleSpec(
        "C207",
        "byline-authors-mismatch",
        WARNING,
        "authors disagree with the byline",
        "make 'authors' list the people of 'byline', or drop 'authors' to derive it",
    ),
    RuleSpec(
        "C208",
        "unparsed-byline",
        WARNING,
        "a byline whose roles and names cannot be read",
        "write it as roles followed by names, e.g. 记者 李雨婷 摄影 王强, or give 'authors'",
    ),
    RuleSpec(
        "C209",
        "stray-space",
        WARNING,
        "a space the PDF put next to digits, Latin words or full-width punctuation (11月 6日)",
        "delete the space (newsset fix does it)",
        fixable=True,
    ),
    RuleSpec("D301", "duplicate-id", ERROR, "two records share an id", "give each article its own id"),
    RuleSpec(
        "D302",
        "duplicate-body",
        WARNING,
        "two records have the same body",
        "remove the duplicate, or check that the right text was pasted",
    ),
    RuleSpec(
        "D303",
        "near-duplicate-body",
        WARNING,
        "two records have nearly the same body (a reprint with small edits)",
        "keep one of them, or check that they are really two articles",
    ),
    RuleSpec(
        "R401",
        "checksum-mismatch",
        ERROR,
        "a release file whose SHA-256 is not the one in SHA256SUMS",
        "a release is never edited: restore the file, or build a new version",
    ),
    RuleSpec(
        "R402",
        "file-list",
        ERROR,
        "a release file missing, or not listed in SHA256SUMS",
        "a release holds exactly the files its SHA256SUMS lists",
    ),
    RuleSpec(
        "R403",
        "data-types",
        ERROR,
        "data files whose types are not those the release's schema gives",
        "build the release with newsset build",
    ),
    RuleSpec(
        "R404",
        "data-mismatch",
        ERROR,
        "JSONL and Parquet shards that disagree, or rows out of (date, page, id) order",
        "build the release with newsset build",
    ),
    RuleSpec(
        "R405",
        "card-mismatch",
        ERROR,
        "the card's YAML disagrees with the data files",
        "build the release with newsset build; never edit a card's YAML by hand",
    ),
    RuleSpec(
        "R406",
        "not-reproduced",
        ERROR,
        "a release file that a rebuild from the corpus does not reproduce byte for byte",
        "release the corpus's changes as a new version (newsset build --bump …)",
    ),
    RuleSpec(
        "R407",
        "changelog-entry",
        ERROR,
        "a release whose entry in CHANGELOG.md is missing or differs",
        "put back the entry that newsset build wrote for the release",
    ),
    RuleSpec(
        "R408",
        "toolchain",
        WARNING,
        "a rebuild with other versions of the libraries in the card's built_with than the release's",
        "install the versions named in the card's built_with to reproduce it byte for byte",
    ),
    RuleSpec(
        "R409",
        "hub-license",
        ERROR,
        "a card license the Hub does not know, or `other` without a license_name",
        "use a license id from https://huggingface.co/docs/hub/repositories-licenses "
        "(builder/data/hub_licenses.txt), or other with a license_name such as my-license-1.0",
    ),
    RuleSpec(
        "R410",
        "hub-size-category",
        ERROR,
        "a size_categories value that is not one of the Hub's buckets",
        "build the release with newsset build, which writes the bucket of its row count",
    ),
    RuleSpec(
        "R411",
        "hub-task-category",
        ERROR,
        "a task_categories value that is not one of the Hub's task ids",
        "use task ids from builder/data/hub_task_categories.txt in newsset.toml, then build a new release",
    ),
    RuleSpec(
        "R412",
        "hub-language",
        ERROR,
        "a language that is not an ISO 639-1/3 code, or language_details that are not BCP 47 variants of it",
        "give ISO codes in language (zh) and BCP 47 tags of them in language_details (zh-Hans-CN)",
    ),
    RuleSpec(
        "R413",
        "config-path",
        ERROR,
        "a configs data_files path that matches no file of the release",
        "build the release with newsset build; never edit a card's YAML by hand",
    ),
    RuleSpec(
        "R414",
        "croissant-mismatch",
        ERROR,
        "croissant.json disagrees with the data files, the schema, the version or the data's date",
        "build the release with newsset build; never edit its metadata by hand",
    ),
    RuleSpec(
        "R415",
        "datapackage-mismatch",
        ERROR,
        "datapackage.json disagrees with the data files, the schema or the version",
        "build the release with newsset build; never edit its metadata by hand",
    ),
    RuleSpec(
        "R416",
        "card-link",
        ERROR,
        "the card links to a file (such as a plot) that the release lacks",
        "build the release with newsset build, which writes every file the card shows",
    ),
    RuleSpec(
        "R417",
        "release-format",
        ERROR,
        "a release format that this newsset does not know",
        "upgrade newsset to one that knows the release format",
    ),
]

RULES: dict[str, RuleSpec] = {spec.id: spec for spec in _SPECS}


def rules_table(markdown: bool = False) -> str:
    """The rule table, plain for the terminal or Markdown for the README."""
    if markdown:
        rows = ["| id | name | severity | fix | checks |", "|---|---|---|---|---|"]
        rows += [
            f"| {r.id} | {r.name} | {r.severity} | {'yes' if r.fixable else ''} | {r.summary} |"
            for r in RULES.values()
        ]
        return "\n".join(rows)
    return "\n".join(
        f"{r.id}  {r.name:<24} {r.severity:<8} {'fix' if r.fixable else '   '}  {r.summary}"
        for r in RULES.values()
    )


def diagnostic(
    rule_id: str,
    file: str,
    line: int,
    message: str,
    col: int = 1,
    hint: str = "",
    pointer: str = "",
    record: str = "",
) -> Diagnostic:
    """A diagnostic of a catalogued rule: severity, name and default hint come from the table."""
    spec = RULES[rule_id]
    return Diagnostic(
        file=file,
        line=line,
        col=col,
        rule=rule_id,
        severity=spec.severity,
        message=message,
        hint=hint or spec.hint,
        name=spec.name,
        pointer=pointer,
        record=record,
    )
