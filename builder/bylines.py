"""Bylines: "记者 胡佳英 通讯员 倪春军" → [{name, role}, …].

Real bylines come in many shapes: `■记 者 华婷婷` (the role spaced for justification),
`摄影 王 强` (the name spaced), several names after one role, `（记者 张三 通讯员 李四）` and
`本报讯（记者 X）`. This module is the one definition of "byline" for extract and validate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from builder.text import CJK_CHAR, SPACES

# Printed role words, longest first so that 摄影记者 wins over 摄影 and 记者.
ROLE_WORDS: dict[str, str] = {
    "本报记者": "reporter",
    "融媒记者": "reporter",
    "全媒体记者": "reporter",
    "融媒体记者": "reporter",
    "首席记者": "reporter",
    "见习记者": "reporter",
    "实习记者": "reporter",
    "特约记者": "reporter",
    "摄影记者": "photographer",
    "记者": "reporter",
    "通讯员": "correspondent",
    "特约通讯员": "correspondent",
    "摄影": "photographer",
    "摄像": "photographer",
    "图": "photographer",
    "责任编辑": "editor",
    "责编": "editor",
    "编辑": "editor",
    "校对": "editor",
    "撰稿": "other",
    "整理": "other",
    "文": "other",
    "实习生": "other",
}
_ROLES_BY_LENGTH = sorted(ROLE_WORDS, key=len, reverse=True)
ROLE_NAMES = ("reporter", "correspondent", "photographer", "editor", "other")

BYLINE_MARKERS = "■□●◆"
_DATELINE_RE = re.compile(r"^(本报讯|本报消息|新华社[^（(]{0,12}电)")
_WRAPPERS_RE = re.compile(r"^[（(【\[]\s*(.*?)\s*[）)】\]]$")
_SPLIT_RE = re.compile(f"[{SPACES}\t/／、，,]+")
_MAX_NAME = 5


class Author(NamedTuple):
    """One person of a byline (a tuple: a million bylines are parsed in a big run)."""

    name: str
    role: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role}


class Byline(NamedTuple):
    """A parsed byline: its canonical text, the people, and roles printed without a name."""

    text: str
    authors: tuple[Author, ...]
    empty_roles: tuple[str, ...]


def dateline(line: str) -> str | None:
    """The dateline a body starts with (`本报讯`, `新华社北京11月8日电`), or None.

    Extract uses it as the strongest sign that an article's body starts on this line.
    """
    m = _DATELINE_RE.match(line.strip(SPACES + "\t"))
    return m.group(1) if m else None


def strip_marker(line: str) -> str:
    """Remove the ■ marker, a leading dateline and the brackets around a byline."""
    s = line.strip(SPACES + "\t")
    s = s.lstrip(BYLINE_MARKERS).strip(SPACES)
    s = _DATELINE_RE.sub("", s).strip(SPACES)
    m = _WRAPPERS_RE.match(s)
    return m.group(1) if m else s


def _merge_role_tokens(tokens: list[str]) -> list[str]:
    """Rejoin a role word spaced for justification: `记 者` → `记者`."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if len(tokens[i]) != 1:  # a role spaced out starts with a single character
            out.append(tokens[i])
            i += 1
            continue
        for size in (3, 2):
            joined = "".join(tokens[i : i + size])
            if (
                i + size <= len(tokens)
                and joined in ROLE_WORDS
                and all(len(t) == 1 for t in tokens[i : i + size])
            ):
                out.append(joined)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


_GLUED_ROLE_RE = re.compile(
    "^(" + "|".join(re.escape(r) for r in _ROLES_BY_LENGTH if len(r) >= 2) + ")(" + CJK_CHAR + "+)$"
)


_ROLE_STARTS = {r[:2] for r in ROLE_WORDS if len(r) >= 2}


def _split_glued_role(token: str) -> list[str]:
    """`记者胡佳英` → [`记者`, `胡佳英`]; only roles of two or more characters are split off."""
    if token in ROLE_WORDS or token[:2] not in _ROLE_STARTS:
        return [token]
    glued = _GLUED_ROLE_RE.match(token)
    if glued is None:
        return [token]
    return [glued[1], *_split_glued_role(glued[2])]


def tokens_of(line: str) -> list[str]:
    raw = [t for t in _SPLIT_RE.split(strip_marker(line)) if t]
    merged = _merge_role_tokens(raw)
    return [piece for token in merged for piece in _split_glued_role(token)]


@lru_cache(maxsize=8192)
def parse(line: str) -> Byline | None:
    """Parse a byline; None when the line is not a byline at all.

    Consecutive single-character tokens after a role are one spaced name (`王 强` → `王强`):
    a Chinese personal name has at least two characters.
    """
    plain = parse_plain(line)
    return plain if plain is not None else parse_tokens(line)


def parse_tokens(line: str) -> Byline | None:
    """`parse` the long way: strip, split, merge spaced roles, split glued ones."""
    tokens = tokens_of(line)
    if not tokens or tokens[0] not in ROLE_WORDS:
        return None
    groups: list[tuple[str, list[str]]] = []
    pending = ""
    for token in tokens:
        if token in ROLE_WORDS and not (pending and len(token) == 1):
            if pending:
                groups[-1][1].append(pending)
                pending = ""
            groups.append((token, []))
            continue
        if not _looks_like_name_part(token):
            return None
        if len(token) == 1:
            pending += token
            continue
        if pending:
            groups[-1][1].append(pending)
            pending = ""
        groups[-1][1].append(token)
    if pending:
        groups[-1][1].append(pending)
    authors = tuple(Author(name, ROLE_WORDS[role]) for role, names in groups for name in names)
    empty = tuple(role for role, names in groups if not names)
    text = " ".join(" ".join([role, *names]) for role, names in groups)
    return Byline(text=text, authors=authors, empty_roles=empty)


def parse_plain(line: str) -> Byline | None:
    """`parse` of a byline already in its plain form (`记者 王强 通讯员 李四`), quickly; None when
    the line is anything else, for `parse` to take it the long way.

    Plain means: single spaces between tokens of two or more letters, a role word first, and
    no name that starts like a role (`记者胡佳英`). Nothing then is stripped, merged or split.
    """
    tokens = line.split(" ")
    if tokens[0] not in ROLE_WORDS:
        return None
    authors: list[Author] = []
    empty: list[str] = []
    role, credit, named = "", "", True
    for token in tokens:
        found = ROLE_WORDS.get(token)
        if found is not None and len(token) >= 2:
            if not named:
                empty.append(role)
            role, credit, named = token, found, False
        elif 2 <= len(token) <= _MAX_NAME and token.isalpha() and token[:2] not in _ROLE_STARTS:
            authors.append(Author(token, credit))
            named = True
        else:
            return None
    if not named:
        empty.append(role)
    return Byline(text=line, authors=tuple(authors), empty_roles=tuple(empty))


def _looks_like_name_part(token: str) -> bool:
    letters = token.replace("·", "")
    return 0 < len(token) <= _MAX_NAME and (not letters or letters.isalpha())


MAX_BYLINE = 60


def is_byline(line: str) -> bool:
    """True for a line that is only a byline (with or without the ■ marker)."""
    stripped = line.strip(SPACES + "\t")
    if not stripped or len(stripped) > MAX_BYLINE:
        return bool(stripped) and stripped[0] in BYLINE_MARKERS
    if stripped[0] in BYLINE_MARKERS:
        return True
    parsed = parse(stripped)
    return parsed is not None and bool(parsed.authors)


def same_authors(parsed: Byline, authors: list[Any]) -> bool:
    """Is `authors` exactly the list `authors_of` gives for the parsed byline? Compared in place,
    without building the dicts."""
    if len(authors) != len(parsed.authors):
        return False
    for given, derived in zip(authors, parsed.authors, strict=True):
        if not isinstance(given, dict) or len(given) != 2:
            return False
        if given.get("name") != derived.name or given.get("role") != derived.role:
            return False
    return True


def authors_of(byline: str) -> list[dict[str, str]]:
    """The `authors` list for a byline string; an empty list when it does not parse."""
    parsed = parse(byline)
    return [a.as_dict() for a in parsed.authors] if parsed else []


def canonical(byline: str) -> str:
    """The byline as the schema stores it: no marker, roles and names single-spaced."""
    parsed = parse(byline)
    return parsed.text if parsed else strip_marker(byline)


def canonical_lines(lines: Sequence[str]) -> str:
    """A byline printed over several lines (`■记者 李雨婷` / `摄影 王 强`) as one canonical byline."""
    return canonical(" ".join(strip_marker(line) for line in lines))
