"""Bylines in the formats the papers print them."""

from __future__ import annotations

import pytest

from builder import bylines


@pytest.mark.parametrize(
    ("printed", "text", "authors"),
    [
        ("■记者 胡佳英", "记者 胡佳英", [("胡佳英", "reporter")]),
        ("■记 者 华婷婷", "记者 华婷婷", [("华婷婷", "reporter")]),
        ("摄影 王 强", "摄影 王强", [("王强", "photographer")]),
        (
            "通讯员 倪春军 凌真烈",
            "通讯员 倪春军 凌真烈",
            [("倪春军", "correspondent"), ("凌真烈", "correspondent")],
        ),
        (
            "■记者 李雨婷 摄影 王 强",
            "记者 李雨婷 摄影 王强",
            [("李雨婷", "reporter"), ("王强", "photographer")],
        ),
        (
            "（记者 张三 通讯员 李四）",
            "记者 张三 通讯员 李四",
            [("张三", "reporter"), ("李四", "correspondent")],
        ),
        ("本报讯（记者 王五）", "记者 王五", [("王五", "reporter")]),
        (
            "本报记者 王小明 摄影记者 李大",
            "本报记者 王小明 摄影记者 李大",
            [("王小明", "reporter"), ("李大", "photographer")],
        ),
        ("融媒记者 陈晨", "融媒记者 陈晨", [("陈晨", "reporter")]),
        ("责编 赵六", "责编 赵六", [("赵六", "editor")]),
        ("记者胡佳英", "记者 胡佳英", [("胡佳英", "reporter")]),
    ],
)
def test_parse_real_formats(printed: str, text: str, authors: list[tuple[str, str]]) -> None:
    parsed = bylines.parse(printed)
    assert parsed is not None
    assert parsed.text == text
    assert [(a.name, a.role) for a in parsed.authors] == authors
    assert bylines.is_byline(printed)


@pytest.mark.parametrize(
    "line", ["今平湖客户端", "作交流发言。", "全面从严治党", "本报讯 11月7日上午，我市举", ""]
)
def test_text_lines_are_not_bylines(line: str) -> None:
    assert not bylines.is_byline(line)


def test_role_without_name_is_reported() -> None:
    parsed = bylines.parse("记者 通讯员 李四")
    assert parsed is not None
    assert parsed.empty_roles == ("记者",)
    assert bylines.authors_of("记者 通讯员 李四") == [{"name": "李四", "role": "correspondent"}]


def test_canonical_form_drops_marker_and_spacing() -> None:
    assert bylines.canonical(" ■记 者 华婷婷") == "记者 华婷婷"
    assert bylines.authors_of("不是署名的一行字") == []
