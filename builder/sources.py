"""Article files: `.md` with YAML front matter and `.jsonl`, read with the line of every part.

Every record read keeps where each field and each paragraph came from, so that a diagnostic
about any of them can point at its line. Problems that stop a file from being read at all are
returned as diagnostics, never raised.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # orjson parses JSONL several times faster; the standard library is the fallback
    from orjson import dumps as _dumps
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    from json import loads as _loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


from builder import locations
from builder.catalog import diagnostic
from builder.diagnostics import Diagnostic

ARTICLE_SUFFIXES = (".md", ".jsonl")
SKIPPED_NAMES = {"README.md", "CHANGELOG.md", "CONTRIBUTING.md"}
FENCE = "---"
BLANK = " \t\r\u3000\u00a0"  # what a blank line may hold; control characters are not blank


def is_blank(line: str) -> bool:
    return not line.strip(BLANK)


@dataclass
class Paragraph:
    line: int
    text: str


class Source:
    """One record and where its parts are in the file it came from.

    A JSONL record keeps its raw line (a view of the mapped file, `MappedLines`, or of the block
    `LineReader` read it in; `bytes()` copies it) and works out paragraphs and field columns
    only when a diagnostic asks for them, so that clean records cost no more than their parse.
    """

    __slots__ = (
        "_paragraphs",
        "data",
        "field_cols",
        "field_lines",
        "format",
        "line",
        "offset",
        "path",
        "raw",
    )

    def __init__(
        self,
        path: str,
        line: int,
        data: dict[str, Any],
        field_lines: dict[str, int] | None = None,
        field_cols: dict[str, int] | None = None,
        paragraphs: list[Paragraph] | None = None,
        format: str = "md",
        raw: bytes | memoryview | None = None,
        offset: int = 0,
    ) -> None:
        self.path = path
        self.line = line
        self.data = data
        self.field_lines = field_lines or {}
        self.field_cols = field_cols or {}
        self._paragraphs = paragraphs
        self.format = format
        self.raw = raw
        self.offset = offset  # where the record's line starts in its file (JSONL)

    @property
    def paragraphs(self) -> list[Paragraph]:
        if self._paragraphs is None:
            body = self.data.get("body")
            self._paragraphs = (
                [Paragraph(self.line, p) for p in body.split("\n")] if isinstance(body, str) else []
            )
        return self._paragraphs

    def line_of(self, name: str | None) -> int:
        return self.field_lines.get(name or "", self.line)

    def col_of(self, name: str | None) -> int:
        if name and name not in self.field_cols and self.raw is not None:
            raw = bytes(self.raw)
            at = raw.find(json.dumps(name, ensure_ascii=False).encode("utf-8"))
            self.field_cols[name] = len(raw[: max(at, 0)].decode("utf-8", "replace")) + 1
        return self.field_cols.get(name or "", 1)

    @property
    def record_id(self) -> str:
        value = self.data.get("id")
        return value if isinstance(value, str) else ""


@dataclass
class FileResult:
    sources: list[Source]
    diagnostics: list[Diagnostic]


def file_diagnostic(
    path: str, rule: str, message: str, line: int = 1, col: int = 1, hint: str = ""
) -> Diagnostic:
    return diagnostic(rule, path, line, message, col=col, hint=hint)


# --- YAML: strings stay strings ------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML where `2020-11-09` stays a string and only true/false are booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).append(("tag:yaml.org,2002:bool", _BOOL_RE))


# --- reading -----------------------------------------------------------------------------


def decode(path: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    """Decode UTF-8 (a BOM is allowed); otherwise say which encoding the bytes look like."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        guess = guess_encoding(raw)
        looks = f" (it looks like {guess})" if guess else ""
        return None, file_diagnostic(
            path,
            "F001",
            f"file is not UTF-8{looks}: byte 0x{raw[err.start]:02x} cannot be decoded",
            line=line,
            col=col,
            hint=f"re-save it as UTF-8, e.g. iconv -f {guess or 'GB18030'} -t UTF-8",
        )


def guess_encoding(raw: bytes) -> str | None:
    """Name the legacy encoding the bytes decode in, preferring the common Chinese ones."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    for name in ("GB18030", "Big5", "UTF-16"):
        try:
            raw.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        return name
    return None


def read_path(path: str | os.PathLike[str]) -> FileResult:
    """Read one article file, `.md` or `.jsonl`."""
    name = os.fspath(path)
    if name.endswith(".jsonl"):
        return collect(iter_jsonl(name))
    try:
        raw = locations.read_bytes(name)
    except OSError as err:
        return FileResult([], [file_diagnostic(name, "F005", f"cannot read file: {err.strerror or err}")])
    text, problem = decode(name, raw)
    if text is None:
        return FileResult([], [problem] if problem else [])
    return read_markdown_text(name, text)


def read_markdown_text(path: str, text: str) -> FileResult:
    """Split front matter from body; keep the line of every field and paragraph."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r ") != FENCE:
        return FileResult(
            [],
            [
                file_diagnostic(
                    path,
                    "F002",
                    "no front matter: the file must start with a line '---'",
                )
            ],
        )
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r ") in (FENCE, "...")), None)
    if end is None:
        return FileResult(
            [],
            [
                file_diagnostic(
                    path,
                    "F002",
                    "front matter is not closed: no second '---' line",
                    line=1,
                    hint="end the front matter with a line '---' before the body",
                )
            ],
        )
    yaml_text = "\n".join(lines[1:end])
    data, field_lines, field_cols, problems = parse_front_matter(path, yaml_text, first_line=2)
    if data is None:
        return FileResult([], problems)
    paragraphs = split_paragraphs(lines[end + 1 :], first_line=end + 2)
    if "body" in data:
        problems.append(
            file_diagnostic(
                path,
                "F002",
                "the body belongs after the front matter, not in a 'body:' field",
                line=field_lines.get("body", 2),
                hint="move the text below the closing '---' line",
            )
        )
        data.pop("body")
    data["body"] = "\n".join(p.text for p in paragraphs)
    field_lines["body"] = paragraphs[0].line if paragraphs else end + 2
    return FileResult([Source(path, 1, data, field_lines, field_cols, paragraphs, "md")], problems)


def parse_front_matter(
    path: str, yaml_text: str, first_line: int
) -> tuple[dict[str, Any] | None, dict[str, int], dict[str, int], list[Diagnostic]]:
    """Parse YAML front matter into a dict and the line and column of every key."""
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, {}, [file_diagnostic(path, "F002", "front matter is empty", line=first_line - 1)]
        if not isinstance(node, yaml.MappingNode):
            return (
                None,
                {},
                {},
                [
                    file_diagnostic(
                        path,
                        "F002",
                        "front matter is not a mapping of 'field: value' lines",
                        line=node.start_mark.line + first_line,
                    )
                ],
            )
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + first_line if mark else first_line
        col = mark.column + 1 if mark else 1
        problem = getattr(err, "problem", None) or str(err)
        context = getattr(err, "context", None)
        message = f"front matter is not valid YAML: {problem}" + (f" ({context})" if context else "")
        return None, {}, {}, [file_diagnostic(path, "F002", message, line=line, col=col)]
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    cols: dict[str, int] = {}
    problems: list[Diagnostic] = []
    for key_node, _value in node.value:
        key = key_node.value
        line = key_node.start_mark.line + first_line
        if key in lines:
            problems.append(
                file_diagnostic(
                    path,
                    "F004",
                    f"field '{key}' is given twice (first on line {lines[key]})",
                    line=line,
                    col=key_node.start_mark.column + 1,
                )
            )
            continue
        lines[key] = line
        cols[key] = key_node.start_mark.column + 1
    if not isinstance(data, dict):  # pragma: no cover - a mapping node constructs a dict
        return None, {}, {}, problems
    return {str(k): v for k, v in data.items()}, lines, cols, problems


def split_paragraphs(lines: list[str], first_line: int) -> list[Paragraph]:
    """Paragraphs are separated by blank lines; a paragraph keeps its inner line breaks."""
    paragraphs: list[Paragraph] = []
    current: list[str] = []
    start = first_line
    for offset, raw in enumerate(lines):
        line = raw.rstrip("\r \t")
        if not is_blank(line):
            if not current:
                start = first_line + offset
            current.append(line)
        elif current:
            paragraphs.append(Paragraph(start, "\n".join(current)))
            current = []
    if current:
        paragraphs.append(Paragraph(start, "\n".join(current)))
    return paragraphs


def collect(found: Iterable[Source | Diagnostic]) -> FileResult:
    """Gather a stream of records and problems into one FileResult."""
    result = FileResult([], [])
    for item in found:
        (result.diagnostics if isinstance(item, Diagnostic) else result.sources).append(item)
    return result


def iter_jsonl(
    path: str,
    start: int = 0,
    end: int | None = None,
    first_line: int | None = None,
    newlines: list[int] | None = None,
) -> Iterator[Source | Diagnostic]:
    """Stream the records of a JSONL file, or of the lines that start in [start, end).

    `first_line` is the number of the line at `start`; counted from the top when not given.
    `newlines`, when given, receives the number of newlines read, once the lines are done.
    """
    try:
        handle = locations.open_binary(path)  # closed below, after the generator is done
    except OSError as err:
        yield file_diagnostic(path, "F005", f"cannot read file: {err.strerror or err}")
        return
    with handle:
        if first_line is None:
            first_line = 1 + count_newlines(handle, 0, start) if start else 1
        lines = MappedLines.of(handle, start, end)
        if lines is None:  # not a local file (or nothing to read): read it
            handle.seek(start)
            lines = LineReader(handle, end - start if end is not None else None)
        yield from iter_jsonl_lines(path, lines, first_line, start)
        if newlines is not None:
            newlines.append(lines.newlines)


def count_newlines(handle: Any, start: int, end: int, block: int = 1 << 22) -> int:
    """The newlines in bytes [start, end) of an open file, read a block at a time."""
    handle.seek(start)
    count = 0
    remaining = end - start
    while remaining > 0:
        chunk = handle.read(min(block, remaining))
        if not chunk:
            break
        count += chunk.count(b"\n")
        remaining -= len(chunk)
    return count


class LineReader:
    """The lines from a handle's position, without their newline, as views of blocks of whole
    lines: those that start in the next `size` bytes, or all that are left.

    A block is read at once and its lines are found with `bytes.find`, with no copy of a line:
    reading a file line by line costs about half as much as parsing the lines' JSON. `newlines`
    counts the newlines read, for a range whose lines are numbered before its place is known.
    """

    def __init__(self, handle: Any, size: int | None = None, block: int = 1 << 22) -> None:
        self.handle = handle
        self.remaining = size
        self.block = block
        self.newlines = 0

    def blocks(self) -> Iterator[bytes]:
        while self.remaining is None or self.remaining > 0:
            want = self.block if self.remaining is None else min(self.block, self.remaining)
            data = self.handle.read(want)
            if not data:
                return
            if not data.endswith(b"\n") and len(data) == want:
                data += self.handle.readline()  # the line the block cut: a line that starts in it
            if self.remaining is not None:
                self.remaining -= len(data)
            yield data

    def __iter__(self) -> Iterator[memoryview]:
        for data in self.blocks():
            view = memoryview(data)
            size = len(data)
            start = 0
            while start < size:
                end = data.find(b"\n", start)
                if end < 0:
                    yield view[start:]
                    break
                self.newlines += 1
                yield view[start:end]
                start = end + 1


RESIDENT = 8 << 20  # bytes of a mapped file kept mapped in behind the line being read


class MappedLines:
    """`LineReader` over a local file mapped into memory: the lines that start in [start, end),
    whole, as views of the page cache, with no copy at all (reading 5 KB lines costs a third of
    parsing them).

    The map is never closed here: it lives as long as a view of it does (a Source's `raw`),
    and goes when the last one goes. It reaches to the end of the file, for the last line. A
    file cut short while it is read ends the process that maps it (SIGBUS), as the input is
    not expected to change under newsset.
    """

    def __init__(self, data: mmap.mmap, start: int, end: int) -> None:
        self.data = data
        self.start = start
        self.end = end
        self.newlines = 0

    @classmethod
    def of(cls, handle: Any, start: int, end: int | None) -> MappedLines | None:
        """The lines of [start, end) of an open file (to its end when `end` is None); None when
        the file cannot be mapped (not a regular local file) or nothing is left in the range."""
        try:
            size = os.fstat(handle.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            return None
        end = size if end is None else min(end, size)
        if end <= start:
            return None
        offset = start - start % mmap.ALLOCATIONGRANULARITY
        try:
            data = mmap.mmap(handle.fileno(), size - offset, access=mmap.ACCESS_READ, offset=offset)
        except (OSError, ValueError):
            return None
        return cls(data, start - offset, end - offset)

    def __iter__(self) -> Iterator[memoryview]:
        view = memoryview(self.data)
        at, size, find = self.start, len(self.data), self.data.find
        kept = at - at % mmap.PAGESIZE  # the pages from here on may be mapped in
        while at < self.end:
            stop = find(b"\n", at)
            if stop < 0:
                yield view[at:size]
                return
            self.newlines += 1
            yield view[at:stop]
            at = stop + 1
            if at - kept > 2 * RESIDENT:
                kept = self.release(kept, at - RESIDENT)

    def release(self, start: int, stop: int) -> int:
        """Unmap the pages of [start, stop) from this process (they stay in the page cache, and a
        view that still looks at them maps them in again), so that its memory holds about
        RESIDENT bytes of the file, not the whole range; return where the pages kept start."""
        stop -= stop % mmap.PAGESIZE
        if hasattr(mmap, "MADV_DONTNEED") and stop > start:
            self.data.madvise(mmap.MADV_DONTNEED, start, stop - start)
        return stop


def iter_jsonl_lines(
    path: str, lines: Iterable[memoryview | bytes], first_line: int, offset: int = 0
) -> Iterator[Source | Diagnostic]:
    """The records of JSONL lines given without their newline; `offset` is where the first starts."""
    for number, view in enumerate(lines, start=first_line):
        at = offset
        offset += len(view) + 1
        line = view
        if not view or view[0] != 123 or view[-1] == 13:  # not `{`, or a `\r` at the end: look closer
            line = bytes(view).rstrip(b"\r")
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip(b" \t\r"):
                continue
        try:
            data = _loads(line)
        except ValueError as err:
            yield json_problem(path, number, bytes(line), err)
            continue
        if not isinstance(data, dict):
            yield file_diagnostic(
                path, "F003", f"line is a JSON {_json_type(data)}, not an object", line=number
            )
            continue
        yield Source(path, number, data, format="jsonl", raw=line, offset=at)


def json_problem(path: str, number: int, line: bytes, err: ValueError) -> Diagnostic:
    """F001 for a line that is not UTF-8, F003 for one that is not JSON."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        guess = guess_encoding(line)
        looks = f" (it looks like {guess})" if guess else ""
        return file_diagnostic(
            path,
            "F001",
            f"line is not UTF-8{looks}: byte 0x{line[bad.start]:02x} cannot be decoded",
            line=number,
            col=bad.start + 1,
        )
    message = getattr(err, "msg", None) or str(err)
    col = getattr(err, "colno", 1) or 1
    return file_diagnostic(path, "F003", f"line is not valid JSON: {message}", line=number, col=col)


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )


def is_file_or_link(path: str) -> bool:
    """A regular file, or a symlink (a broken one is reported); never a FIFO that would block."""
    return os.path.isfile(path) or os.path.islink(path)


def is_article_name(name: str) -> bool:
    return name.endswith(ARTICLE_SUFFIXES) and name not in SKIPPED_NAMES and not name.startswith(".")


def iter_article_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """Files named directly, and `.md`/`.jsonl` files under folders, in a stable order."""
    for path in paths:
        name = os.fspath(path)
        if locations.is_uri(name):
            yield from (locations.files_under(name, is_article_name) if locations.is_dir(name) else [name])
        elif os.path.isdir(name):
            found = []
            for root, dirs, files in os.walk(name):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(
                    os.path.join(root, f)
                    for f in files
                    if is_article_name(f) and is_file_or_link(os.path.join(root, f))
                )
            yield from sorted(found)
        else:
            yield name


def iter_file(
    name: str,
    start: int = 0,
    end: int | None = None,
    first_line: int | None = None,
    newlines: list[int] | None = None,
) -> Iterator[Source | Diagnostic]:
    """Stream one file's records and problems; JSONL line by line, optionally a byte range
    (`newlines`: see `iter_jsonl`)."""
    if not locations.exists(name):
        yield file_diagnostic(name, "F005", "no such file or folder")
    elif name.endswith(".jsonl"):
        yield from iter_jsonl(name, start, end, first_line, newlines)
    else:
        result = read_path(name)
        yield from result.diagnostics
        yield from result.sources


# --- writing -----------------------------------------------------------------------------


def yaml_scalar(value: Any) -> str:
    """A YAML scalar that reads back as exactly `value` with this module's loader."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    try:
        plain_ok = text == text.strip() and text and yaml.load(f"k: {text}", Loader=_Loader) == {"k": text}
    except yaml.YAMLError:
        plain_ok = False
    return text if plain_ok else json.dumps(text, ensure_ascii=False)


def to_markdown(record: dict[str, Any], order: Iterable[str]) -> str:
    """Render a record as an article `.md` file: front matter in `order`, then the body."""
    out = [FENCE]
    for name in order:
        if name == "body" or record.get(name) is None:
            continue
        value = record[name]
        if isinstance(value, list):
            out.append(f"{name}:")
            for item in value:
                pairs = [f"{k}: {yaml_scalar(v)}" for k, v in item.items()]
                out.append("  - " + "\n    ".join(pairs))
        else:
            out.append(f"{name}: {yaml_scalar(value)}")
    out.append(FENCE)
    body = record.get("body") or ""
    paragraphs = [p for p in body.split("\n") if not is_blank(p)]
    return "\n".join(out) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def to_jsonl_line(record: dict[str, Any], order: Iterable[str]) -> str:
    return to_jsonl_bytes(record, order).decode("utf-8")


def to_jsonl_bytes(record: dict[str, Any], order: Iterable[str]) -> bytes:
    """A record's JSONL line (no newline): fields in `order`, absent ones left out, UTF-8 as it
    is, no spaces. orjson writes exactly the bytes of json.dumps(ensure_ascii=False) here."""
    return plain_jsonl_bytes({k: record[k] for k in order if record.get(k) is not None})


def plain_jsonl_bytes(record: dict[str, Any]) -> bytes:
    """`to_jsonl_bytes` of a record that is plain already (`build.plain`: its fields in order,
    none of them None)."""
    return _dumps(record)


def article_path(root: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Where the corpus keeps a record: `<root>/YYYY/MM/DD/<id>.md`."""
    year, month, day = str(record["date"]).split("-")
    return Path(root) / year / month / day / f"{record['id']}.md"


def write_new(path: str | os.PathLike[str], text: str) -> None:
    """Write a new file atomically; refuse to overwrite one that exists."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.link(tmp, target)  # fails if the target exists: no overwrite race
    finally:
        tmp.unlink()


def replace_file(path: str | os.PathLike[str], text: str) -> None:
    """Replace a file's content atomically (write a temporary file, rename it into place)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def record_at(path: str, offset: int = 0, line: int = 1) -> Source | None:
    """Read one record again: the JSONL line at `offset`, or the .md file's record."""
    if path.endswith(".jsonl"):
        return next((s for s in iter_jsonl(path, offset, offset + 1, line) if isinstance(s, Source)), None)
    return next(iter(read_path(path).sources), None)
