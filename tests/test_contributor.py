"""The contributor's path from the README: add an article, read the complaints, fix, pass."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RAW_PAGE, diagnostics_of, run

RAW = RAW_PAGE.read_text(encoding="utf-8").split("\n")


def test_new_article_from_raw_lines_to_a_clean_gate(corpus_copy: Path) -> None:
    # Article 07 is made up of the page's own lines 407-411, pasted as printed.
    pasted = "\n".join(RAW[406:411])
    path = corpus_copy / "2020/11/09/pinghu-20201109-p01-07.md"
    path.write_text(
        "---\nid: pinghu-20201109-p01-07\nsource: 今日平湖\ndate: 2020-11-09\npage: 1\nsection: 要闻\n"
        "headline: 市社会矛盾纠纷多元化解联合会成立市社会矛盾纠纷多元化解联合会成立\n---\n\n"
        f"■记者 金睿敏\n\n{pasted}\n",
        encoding="utf-8",
    )
    found = {(d["rule"], d["line"]) for d in diagnostics_of(corpus_copy)}
    assert {("C102", 7), ("C103", 10), ("C101", 13)} <= found

    fixed = run("fix", corpus_copy)
    assert fixed.stdout == f"{path}:12  C101  fixed: joined 5 hard-wrapped lines\n"
    assert {d["rule"] for d in diagnostics_of(corpus_copy)} >= {"C102", "C103"}

    # What fix cannot decide, the contributor does by hand, as the hints say.
    text = path.read_text(encoding="utf-8")
    text = text.replace("联合会成立市社会矛盾纠纷多元化解联合会成立", "联合会成立").replace(
        "■记者 金睿敏\n\n", ""
    )
    path.write_text(text, encoding="utf-8")
    assert run("validate", corpus_copy, "--strict").exit_code == 0
    body = text.split("---\n", 2)[2].strip()
    assert (
        body
        == "本报讯 11月7日下午，我市召开平湖市社会矛盾纠纷多元化解联合会成立暨第一次会员代表大会。市领导王道平、汤洪成出席会议。"
    )
