"""Reading and writing article files, with the line of every field and paragraph."""

from __future__ import annotations

import io
import mmap
from pathlib import Path

import pytest

from builder import schema, sources
from tests.conftest import ARTICLES, valid_record, write_jsonl, write_md


def test_markdown_fields_and_paragraphs_keep_their_lines() -> None:
    result = sources.read_path(ARTICLES / "2020/11/09/pinghu-20201109-p01-02.md")
    assert result.diagnostics == []
    (src,) = result.sources
    assert src.field_lines["id"] == 2
    assert src.field_lines["headline"] == 7
    assert src.field_lines["byline"] == 9
    assert [p.line for p in src.paragraphs] == [12, 14, 16, 18, 20, 22]
    assert src.data["date"] == "2020-11-09"  # a string, not a YAML timestamp
    assert src.data["page"] == 1
    assert src.data["body"].count("\n") == 5
    assert src.data["body"].startswith("本报讯 昨天是全国第二十一个记者节。11月6日下午")


def test_jsonl_records_point_at_their_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, [valid_record(id="pinghu-20201109-p01-08"), valid_record()])
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    result = sources.read_path(path)
    assert [s.line for s in result.sources] == [2, 3]
    assert result.sources[0].line_of("headline") == 2
    assert result.sources[0].col_of("headline") > 1
    assert result.sources[0].paragraphs[1].line == 2


def test_markdown_round_trip_of_every_corpus_file(tmp_path: Path) -> None:
    for path in sorted(ARTICLES.rglob("*.md")):
        record = sources.read_path(path).sources[0].data
        text = sources.to_markdown(record, schema.field_names())
        assert text == path.read_text(encoding="utf-8")


def test_writer_quotes_values_yaml_would_change(tmp_path: Path) -> None:
    record = valid_record(headline="true", kicker="2020-11-09", subheadline="a: b #c")
    back = sources.read_path(write_md(tmp_path, record)).sources[0].data
    assert (back["headline"], back["kicker"], back["subheadline"]) == ("true", "2020-11-09", "a: b #c")


def test_gb18030_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.md"
    path.write_bytes("---\nid: 中文\n---\n\n正文\n".encode("gb18030"))
    (diag,) = sources.read_path(path).diagnostics
    assert diag.rule == "F001" and diag.line == 2
    assert "GB18030" in diag.message


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write_md(tmp_path, valid_record())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = sources.read_path(path)
    assert result.diagnostics == [] and result.sources[0].data["id"] == valid_record()["id"]


def test_duplicate_key_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write_md(tmp_path, valid_record())
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(3, "source: 嘉兴日报")
    path.write_text("\n".join(lines), encoding="utf-8")
    (diag,) = sources.read_path(path).diagnostics
    assert (diag.rule, diag.line) == ("F004", 4)
    assert "first on line 3" in diag.message


def test_write_new_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.md"
    sources.write_new(target, "one")
    try:
        sources.write_new(target, "two")
    except FileExistsError:
        pass
    else:  # pragma: no cover
        raise AssertionError("overwrote an existing file")
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["b.md"]


def test_folders_are_walked_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    for name in ("b/2.md", "a/1.jsonl", "a/README.md", "a/.hidden.md", "a/notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = [Path(p).relative_to(tmp_path).as_posix() for p in sources.iter_article_files([tmp_path])]
    assert found == ["a/1.jsonl", "b/2.md"]


def test_line_reader_gives_the_lines_that_start_in_a_range(tmp_path: Path) -> None:
    """Every range of a file with CRLF, blank and unfinished lines, read in blocks smaller than a
    line: the lines that start in the range, whole, and the newlines read."""
    data = b'{"a": 1}\r\n\n  \n{"b": "\xe4\xbb\x8a"}\n{"c": [1, 2, 3]}\n{"d": 4}'
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    lines = data.split(b"\n")
    for block in (3, 7, 1 << 22):
        for start in starts:
            for end in range(start, len(data) + 2):
                with path.open("rb") as handle:
                    handle.seek(start)
                    reader = sources.LineReader(handle, end - start, block)
                    got = [bytes(line) for line in reader]
                wanted = [line for at, line in zip(starts, lines, strict=True) if start <= at < end]
                assert got == wanted, (block, start, end)
                read_to = [*starts, len(data)][starts.index(start) + len(wanted)]
                assert reader.newlines == data[start:read_to].count(b"\n")


def test_mapped_lines_are_the_line_readers(tmp_path: Path) -> None:
    """Mapped into memory, every range gives the lines and newlines `LineReader` gives."""
    data = b'{"a": 1}\r\n\n  \n{"b": "\xe4\xbb\x8a"}\n{"c": [1, 2, 3]}\n{"d": 4}'
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    for start in [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]:
        for end in [*range(start, len(data) + 2), None]:
            with path.open("rb") as handle:
                mapped = sources.MappedLines.of(handle, start, end)
                handle.seek(start)
                reader = sources.LineReader(handle, end - start if end is not None else None, 3)
                wanted = [bytes(line) for line in reader]
            got = [bytes(line) for line in mapped] if mapped is not None else []
            assert got == wanted, (start, end)
            assert (mapped.newlines if mapped is not None else 0) == reader.newlines


def test_mapped_lines_give_back_pages_behind_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages left behind are unmapped as reading goes on; views of them still read their lines."""
    monkeypatch.setattr(sources, "RESIDENT", mmap.PAGESIZE)
    lines = [f'{{"n": {i}, "pad": "{"今" * (i % 700)}"}}'.encode() for i in range(400)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with path.open("rb") as handle:
        mapped = sources.MappedLines.of(handle, 0, None)
    assert mapped is not None and len(mapped.data) > 50 * mmap.PAGESIZE
    released = []
    monkeypatch.setattr(
        mapped, "release", lambda a, b, real=mapped.release: released.append(real(a, b)) or released[-1]
    )
    views = list(mapped)
    assert len(released) > 10
    assert [bytes(v) for v in views] == lines


def test_a_file_that_cannot_be_mapped_is_read(tmp_path: Path) -> None:
    """An empty file, or a handle with no file behind it, falls back to reading."""
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with (tmp_path / "empty.jsonl").open("rb") as handle:
        assert sources.MappedLines.of(handle, 0, None) is None
    assert sources.MappedLines.of(io.BytesIO(b'{"a": 1}\n'), 0, None) is None


def test_jsonl_records_keep_their_offsets_and_lines(tmp_path: Path) -> None:
    """Offsets point at each record's line, whatever its line ending, after blank lines too."""
    data = b'\xef\xbb\xbf{"n": 1}\r\n\n{"n": 2}\n \n{"n": 3}'
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    found = [s for s in sources.iter_jsonl(str(path)) if isinstance(s, sources.Source)]
    assert [(s.data["n"], s.line, s.offset) for s in found] == [(1, 1, 0), (2, 3, 14), (3, 5, 25)]
    assert all(data[s.offset :].lstrip(b"\xef\xbb\xbf").startswith(b'{"n": ') for s in found)
    newlines: list[int] = []
    assert len(list(sources.iter_jsonl(str(path), 14, len(data), 3, newlines))) == 2
    assert newlines == [data[14:].count(b"\n")]
