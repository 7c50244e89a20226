"""A page simulator: clean articles laid out the way the e-paper's text layer gives them.

The tests use it to check that extraction recovers articles it has never seen. It reproduces
what the seed page shows: columns 8–20 characters wide whose text is hard-wrapped (punctuation
squeezed to half width, never at the start of a line); the first line of a paragraph indented
by two characters; column breaks and most paragraph ends as blank lines; a byline (`■记者 …`,
maybe a second line) before the body; the title block after the body, or after the next
article's; bold headlines printed twice (`XX` → `XXXX`), other titles wrapped; a kicker with
its cue (`…上强调`, `强交流 听意见 促发展`), a subheadline under and longer than the headline;
stray bylines and captions that belong to no article.

What it does not produce, because no reader of the text alone could decide it: a column break
right after a line that ends a sentence, a two-line title without bold or wrap, a kicker without
a cue. `ocr_noise` then damages a page the way OCR does, for the robustness tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from builder import bylines, text

# Two-character words of news prose, none of them a byline role, dateline or page furniture.
_WORD_LIST = (
    "发展 建设 城市 经济 社会 治理 群众 服务 企业 工作 推进 会议 政策 项目 改革 创新 乡村 振兴 "
    "环境 文明 基层 干部 党员 组织 活动 居民 社区 街道 平湖 嘉兴 浙江 全省 全市 产业 园区 农业 "
    "交通 教育 医疗 卫生 文化 旅游 体育 科技 人才 资源 安全 生产 消费 市场 质量 标准 体系 机制 "
    "能力 水平 目标 任务 重点 难点 举措 成效 经验 做法 落实 部署 开展 加强 提升 优化 完善 推动 "
    "实施 参与 支持 保障 监督 协调 合作 交流 调研 座谈 表彰 宣传 报道 窗口 平台 数字 智慧 绿色 "
    "生态 垃圾 分类 车辆 道路 河道 公园 学校 医院 老人 儿童 家庭 志愿 队伍 力量 品牌 特色 精神"
)
WORDS = tuple(_WORD_LIST.split())
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈"
GIVEN = "佳英雨婷丹荔思家睿敏春军真烈海龙旭东水良云道平峰国珍晓静洪成娟芬怡玲建萍伟明华丽强勇杰磊静"
CLAUSE_END = "，，，、；"
SENTENCE_END = "。。。！？"
KICKER_VERBS = ("强调", "指出", "要求")
CAPTIONS = ("今平湖客户端", "扫码看视频", "图片新闻", "微信公众号")
NO_START = "，。、；：？！”’）》…"
NO_END = "“‘（《"
INDENT = 2.0


@dataclass(frozen=True)
class SimArticle:
    """One clean article, as the corpus keeps it, and how its title is printed."""

    paragraphs: tuple[str, ...]
    headline: str
    kicker: str | None = None
    subheadline: str | None = None
    byline_lines: tuple[str, ...] = ()
    bold: bool = False

    @property
    def byline(self) -> str | None:
        return bylines.canonical_lines(self.byline_lines) if self.byline_lines else None

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class SimPage:
    """A simulated page: its raw text and what extraction should find in it."""

    text: str
    articles: list[SimArticle]
    stray_bylines: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    column: int = 0


# --- content -------------------------------------------------------------------------------


def words(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(count))


def sentence(rng: random.Random) -> str:
    """A sentence of clauses of at least two words, maybe with a quotation or a date."""
    clauses = []
    for _ in range(rng.randint(1, 4)):
        clause = words(rng, rng.randint(1, 4))
        roll = rng.random()
        if roll < 0.15:
            clause += "“" + words(rng, rng.randint(1, 2)) + "”" + words(rng, 1)
        elif roll < 0.25:
            clause = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日" + clause
        clauses.append(words(rng, 1) + clause)
    return "".join(c + rng.choice(CLAUSE_END) for c in clauses[:-1]) + clauses[-1] + rng.choice(SENTENCE_END)


def paragraph(rng: random.Random, column: int, dateline: bool) -> str:
    """A paragraph long enough to fill at least two full lines of the column."""
    value = ""
    while len(value) < 3 * column or not value:
        value += sentence(rng)
    return ("本报讯 " if dateline else "") + value


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def byline_lines(rng: random.Random) -> tuple[str, ...]:
    """`■记者 胡佳英`, sometimes with the role spaced, sometimes a second line of credits."""
    first = ("■记 者 " if rng.random() < 0.2 else "■记者 ") + name(rng)
    roll = rng.random()
    if roll < 0.3:
        return (first, "通讯员 " + " ".join(name(rng) for _ in range(rng.randint(1, 2))))
    if roll < 0.5:
        return (first, "摄影 " + " ".join(name(rng)))
    return (first,)


def title_words(rng: random.Random, low: int, high: int) -> str:
    """Distinct words, so that a title never reads as printed twice by accident."""
    return "".join(rng.sample(WORDS, rng.randint(low, high)))


def random_article(rng: random.Random, column: int) -> SimArticle:
    """An article. One in five with a byline has no dateline, and then two paragraphs at least:
    without a byline or a dateline before it nothing would say where its body starts, and a
    short one would read as a caption."""
    credits = byline_lines(rng) if rng.random() < 0.7 else ()
    dated = not credits or rng.random() < 0.8
    count = rng.randint(1, 4) if dated else rng.randint(2, 4)
    paragraphs = [paragraph(rng, column, dateline=dated and i == 0) for i in range(count)]
    bold = rng.random() < 0.4
    if bold:
        parts = [title_words(rng, 2, 5) for _ in range(rng.randint(1, 2))]
        headline = " ".join(parts)
    else:
        headline = title_words(rng, 3, 8)
    kicker = None
    if rng.random() < 0.3:
        if rng.random() < 0.5:
            kicker = name(rng) + "在" + title_words(rng, 1, 3) + "上" + rng.choice(KICKER_VERBS)
        else:
            kicker = " ".join(rng.choice(WORDS)[0] + rng.choice(WORDS) for _ in range(3))
    subheadline = None
    if rng.random() < 0.3:
        subheadline = title_words(rng, 1, 3) + headline.replace(" ", "") + title_words(rng, 1, 2) + "举行"
    return SimArticle(tuple(paragraphs), headline, kicker, subheadline, credits, bold)


# --- layout --------------------------------------------------------------------------------


def tokens(value: str) -> list[str]:
    """Characters, except that a run of digits or Latin letters is never broken."""
    out: list[str] = []
    for ch in value:
        if out and ch.isascii() and ch.isalnum() and out[-1][-1:].isascii() and out[-1][-1:].isalnum():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def token_width(token: str) -> float:
    return sum(1.0 if text.is_cjk(c) else 0.5 for c in token)


def wrap(value: str, width: float, first_width: float | None = None) -> list[str]:
    """Hard-wrap text at a column width, keeping punctuation off the wrong end of a line.

    A closing mark never starts a line (the character before it moves down with it); an
    opening mark never ends one.
    """
    limit = width if first_width is None else first_width
    lines: list[list[str]] = []
    current: list[str] = []
    used = 0.0
    for token in tokens(value):
        if not current or used + token_width(token) <= limit:
            current.append(token)
            used += token_width(token)
            continue
        carry: list[str] = []
        if token in NO_START:
            while current and (not carry or carry[0] in NO_START):
                carry.insert(0, current.pop())
        while current and current[-1] in NO_END:
            carry.insert(0, current.pop())
        lines.append(current)
        current = [*carry, token]
        used = sum(token_width(t) for t in current)
        limit = width
    if current:
        lines.append(current)
    return ["".join(line) for line in lines if line]


def body_lines(article: SimArticle, column: int, height: int, rng: random.Random) -> list[str]:
    """The body hard-wrapped, with blank lines at most paragraph ends and at column breaks."""
    out: list[str] = []
    in_column = 0
    for index, para in enumerate(article.paragraphs):
        wrapped = wrap(para, column, column - INDENT)
        # Without a blank line, a paragraph break is only clear after a short last line, and
        # before a first line that does not end a sentence itself (it would read as the last
        # line of the paragraph before): otherwise the page gets a blank line.
        clear = token_width(out[-1]) <= column - INDENT if out else False
        if index and (rng.random() < 0.8 or not clear or text.ends_paragraph(wrapped[0])):
            out.append("")
            in_column = 0
        for line in wrapped:
            if in_column >= height and out and out[-1] != "" and not text.ends_sentence(out[-1]):
                out.append("")
                in_column = 0
            out.append(line)
            in_column += 1
    return out


def title_lines(article: SimArticle, width: int) -> list[str]:
    """Kicker, blank, headline (doubled or wrapped), subheadline right under it."""
    out: list[str] = []
    if article.kicker:
        out += [article.kicker, ""]
    if article.bold:
        out += [part + part for part in article.headline.split(" ")]
    else:
        out += split_title(article.headline, width)
    if article.subheadline:
        out.append(article.subheadline)
    return out


def split_title(value: str, width: int) -> list[str]:
    """A title wider than the title width goes on two lines, the first the longer."""
    if token_width(value) <= width:
        return [value]
    cut = (len(value) + 1) // 2
    while cut < len(value) - 1 and value[cut] in NO_START:
        cut += 1
    return [value[:cut], value[cut:]]


def layout_page(articles: list[SimArticle], column: int, rng: random.Random) -> SimPage:
    """Lay articles out as one page of raw text, in the order the text layer gives them."""
    height = rng.randint(6, 30)
    title_width = rng.randint(8, 16)
    page: list[str] = []
    strays: list[str] = []
    captions: list[str] = []
    deferred: list[str] = []
    for index, article in enumerate(articles):
        if article.byline_lines:
            page += [*article.byline_lines, ""]
        page += [*body_lines(article, column, height, rng), ""]
        titles = title_lines(article, max(title_width, len(article.headline) // 2 + 1))
        if index + 1 < len(articles) and not deferred and rng.random() < 0.2:
            # The title waits until after the next article's: nothing else may stand here, or
            # it would be read as this article's title, or a stray byline as the next one's.
            deferred = titles
            continue
        if rng.random() < 0.15:
            stray = byline_lines(rng)
            page += [*stray, ""]
            strays.append(bylines.canonical_lines(stray))
        page += [*titles, ""]
        if deferred:
            page += [*deferred, ""]
            deferred = []
        if rng.random() < 0.2:
            caption = rng.choice(CAPTIONS)
            page += [caption, ""]
            captions.append(caption)
    return SimPage("\n".join(page) + "\n", articles, strays, captions, column)


def simulate(seed: int, articles: int = 3, column: int | None = None) -> SimPage:
    """A page of random articles: the same seed gives the same page."""
    rng = random.Random(seed)
    width = column if column is not None else rng.randint(8, 20)
    return layout_page([random_article(rng, width) for _ in range(articles)], width, rng)


# --- OCR damage ----------------------------------------------------------------------------


def interleave(first: list[str], second: list[str]) -> list[str]:
    """Two columns read across, line by line, as OCR does with a page read in rows."""
    out: list[str] = []
    for i in range(max(len(first), len(second))):
        out += [lines[i] for lines in (first, second) if i < len(lines)]
    return out


def halfwidth(value: str) -> str:
    """Full-width punctuation replaced by the ASCII marks OCR often reads."""
    return value.translate(
        str.maketrans({"，": ",", "：": ":", "；": ";", "？": "?", "！": "!", "“": '"', "”": '"'})
    )


def split_bylines(lines: list[str]) -> list[str]:
    """`■记者 胡佳英` read as two lines: `■记者` and `胡佳英`."""
    out: list[str] = []
    for line in lines:
        if line.startswith("■") and " " in line:
            role, _, rest = line.partition(" ")
            out += [role, rest]
        else:
            out.append(line)
    return out


def ocr_noise(page: str, rng: random.Random) -> str:
    """The page damaged the ways OCR damages pages: the tests only ask that nothing is lost."""
    lines = page.split("\n")
    if rng.random() < 0.5:
        half = len(lines) // 2
        lines = interleave(lines[:half], lines[half:])
    if rng.random() < 0.5:
        lines = split_bylines(lines)
    if rng.random() < 0.5:
        lines = [halfwidth(line) for line in lines]
    if rng.random() < 0.5:
        lines.insert(0, "第C01版:今日平湖报")
        lines.insert(rng.randint(0, len(lines)), "第C01版:今日平湖报")
    if rng.random() < 0.5:
        lines.insert(rng.randint(0, len(lines)), "(下转第四版)")
    return "\n".join(lines)
