"""A synthetic corpus of the schema's shape, seeded, with realistic lengths and known errors.

Sentences are drawn from the bundled corpus, so bodies look like the paper's text (CJK with
full-width punctuation, quotes, digits). With `error_rate`, some records get one injected error
each, of a kind that the schema or a content rule must report.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from builder.text import unbalanced_brackets

REPO = Path(__file__).resolve().parent.parent
DATELINE = "本报讯"
SECTIONS = ["要闻", "综合", "民生", "经济", "文体", "社会", "乡镇", "副刊"]
ROLES = [("记者", "reporter"), ("通讯员", "correspondent"), ("摄影", "photographer")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "佳英思家雨婷强丹荔睿敏华婷春军真烈海龙旭东水良云良道平峰国平玉珍晓烈静勇彪锦连幼锋娟芬怡玲建萍洪成其英宝"
)


def sentences() -> list[str]:
    """Sentences of the bundled corpus, split after 。！？, without a paragraph's dateline
    (`本报讯 `): inside a paragraph its space would be a stray one (C209), and `record` puts a
    dateline where it belongs, at the start of the body."""
    out: list[str] = []
    for path in sorted((REPO / "articles").rglob("*.md")):
        body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
        found = re.findall(r"[^。！？\n]+[。！？]”?", body)
        found = [s.removeprefix(f"{DATELINE} ") for s in found]
        out.extend(s for s in found if len(s) > 6 and not unbalanced_brackets(s))
    return out


INJECTED = [
    "missing-headline",
    "unknown-field",
    "page-as-string",
    "bad-date",
    "bad-role",
    "extra-author-key",
    "hard-wrap",
    "doubled-headline",
    "marker-in-body",
    "replacement-char",
    "empty-body",
    "cjk-spacing",
    "halfwidth",
    "duplicate-id",
]


def title(sentence: str, width: int) -> str:
    """A title-like line from a sentence: no end mark, no quotes, at most `width` characters."""
    return re.sub("[“”‘’（）《》。！？]", "", sentence)[:width]


def record(rng: random.Random, n: int, pool: list[str], day: date) -> dict[str, Any]:
    paragraphs = []
    for _ in range(rng.randint(4, 9)):
        paragraphs.append("".join(rng.choice(pool) for _ in range(rng.randint(2, 6))))
    paragraphs[0] = f"{DATELINE} " + paragraphs[0]
    names = [
        rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
        for _ in range(rng.randint(1, 3))
    ]
    roles = [ROLES[min(i, 2)] for i in range(len(names))]
    rec: dict[str, Any] = {
        "id": f"synth-{day:%Y%m%d}-p{(n % 8) + 1:02d}-{n:07d}",
        "source": "合成日报",
        "date": day.isoformat(),
        "page": (n % 8) + 1,
        "section": rng.choice(SECTIONS),
        "headline": title(rng.choice(pool), 30) or "标题",
        "byline": " ".join(f"{role} {name}" for (role, _), name in zip(roles, names, strict=True)),
        "authors": [{"name": name, "role": role} for (_, role), name in zip(roles, names, strict=True)],
        "body": "\n".join(paragraphs),
    }
    if rng.random() < 0.3:
        rec["kicker"] = title(rng.choice(pool), 20) or "引题"
    return rec


def inject(rng: random.Random, rec: dict[str, Any], kind: str, previous_id: str) -> None:
    """Give a record one known error of the given kind."""
    body = rec["body"]
    if kind == "missing-headline":
        del rec["headline"]
    elif kind == "unknown-field":
        rec["hedline"] = rec["headline"]
    elif kind == "page-as-string":
        rec["page"] = str(rec["page"])
    elif kind == "bad-date":
        rec["date"] = (
            rec["date"][:8] + "31" if rec["date"][5:7] in ("02", "04", "06", "09", "11") else "2021-02-29"
        )
    elif kind == "bad-role":
        rec["authors"][0]["role"] = "boss"
    elif kind == "extra-author-key":
        rec["authors"][0]["age"] = 30
    elif kind == "hard-wrap":
        first = rec["body"].split("\n")[0].rstrip("。！？”")
        wrapped = "\n".join(first[i : i + 14] for i in range(0, min(len(first), 56), 14))
        rec["body"] = wrapped + "\n" + body
    elif kind == "doubled-headline":
        rec["headline"] = rec["headline"] * 2 if len(rec["headline"]) >= 3 else "平湖新闻平湖新闻"
    elif kind == "marker-in-body":
        rec["body"] = body + "\n■记者 王强"
    elif kind == "replacement-char":
        cut = rng.randrange(1, len(body))
        rec["body"] = body[:cut] + "\ufffd" + body[cut:]
    elif kind == "empty-body":
        rec["body"] = ""
    elif kind == "cjk-spacing":
        rec["body"] = body + "\n会议邀请省食 药 监 局纪检组原组长作讲座。"
    elif kind == "halfwidth":
        rec["body"] = body + "\n他说,要完善机制。"
    elif kind == "duplicate-id":
        rec["id"] = previous_id


def generate(
    count: int, seed: int = 0, error_rate: float = 0.0
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Yield (record, injected error kind or None), reproducibly for a seed."""
    rng = random.Random(seed)
    pool = sentences()
    start = date(2010, 1, 1)
    previous = ""
    for n in range(count):
        rec = record(rng, n, pool, start + timedelta(days=n * 3650 // max(count, 1)))
        kind = rng.choice(INJECTED) if previous and rng.random() < error_rate else None
        if kind:
            inject(rng, rec, kind, previous)
        previous = rec.get("id", previous) if kind != "duplicate-id" else previous
        yield rec, kind


def write_jsonl(path: Path, count: int, seed: int = 0, error_rate: float = 0.0) -> dict[str, int]:
    """Write a JSONL corpus; return how many records got each kind of injected error."""
    injected: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as out:
        for rec, kind in generate(count, seed, error_rate):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if kind:
                injected[kind] = injected.get(kind, 0) + 1
    return injected


def write_corpus(
    folder: Path, count: int, seed: int = 0, error_rate: float = 0.0, files: int = 4, reprints: int = 6
) -> list[Path]:
    """A generated corpus in `files` JSONL files, with reprints for the corpus checks: `reprints`
    records again under a new id, half with the same body (D302), half with one character
    changed (D303)."""
    records = [rec for rec, _ in generate(count, seed, error_rate)]
    for n, rec in enumerate(records[10 : 10 + reprints]):
        copy = dict(rec, id=f"{rec['id'][:-7]}{9_000_000 + n:07d}")
        if n % 2 and isinstance(rec.get("body"), str):
            body = copy["body"]
            copy["body"] = body[:40] + ("甲" if body[40] != "甲" else "乙") + body[41:]
        records.append(copy)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    step = -(-len(records) // files)
    for index in range(files):
        path = folder / f"part-{index}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for rec in records[index * step : (index + 1) * step]:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths
