"""Read the seed articles from ``../shared/seeds`` and make them fit for publishing.

The files are web pages saved as text: navigation bars, footers and "related posts" around the
article, and in 002 traditional characters with pinyin left over from a broken encoding
(``建設(shè)``) and a few garbled headings. Cleaning keeps every readable sentence and never fails:
a missing or unreadable seed folder yields no seeds and the demo falls back to generated text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PINYIN_NOTE = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
# Characters that only appear here as debris of a mis-decoded byte stream.
DEBRIS = re.compile(r"[\u2460-\u24ff\u2500-\u257f\u3100-\u312f\ufffd_]")
META = re.compile(r"^(發布時間|发布时间)[:：]\s*(\d{4}-\d{2}-\d{2})")
NAV_MARKERS = ("|", "Copyright", "©", "E-mail", "邮编", "相關", "相关热词", "熱點", "热点文章", "点击:", "點擊:")


@dataclass
class Seed:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    date: str = ""
    author: str = ""


def default_seed_dir() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def clean_line(line: str) -> str:
    line = PINYIN_NOTE.sub("", line).strip()
    if DEBRIS.search(line):
        # A garbled heading prefix: keep the readable remainder after the last debris character.
        last = max(m.end() for m in DEBRIS.finditer(line))
        line = line[last:].strip()
        if len(line) < 4:
            return ""
    return line.rstrip("*").strip()


def parse_seed(path: Path) -> Seed | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    text = raw.decode("utf-8", errors="replace")
    lines: list[str] = []
    for original in text.splitlines():
        if original.startswith("    "):  # indented "related posts" lists follow the article
            if lines:
                break
            continue
        line = clean_line(original)
        if line and (META.match(line) or not any(marker in line for marker in NAV_MARKERS)):
            lines.append(line)
    if len(lines) < 2:
        return None
    seed = Seed(key=path.name[:3], title="", paragraphs=[])
    for line in lines:
        match = META.match(line)
        if match:
            seed.date = match.group(2)
            continue
        author = re.match(r"^作者[:：][\s□]*(\S.{0,8})$", line)
        if author:
            seed.author = re.sub(r"\s+", "", author.group(1))
            continue
        seed.paragraphs.append(line)
    first = seed.paragraphs[0]
    # A short first line is the headline; otherwise the article has none and we make one.
    if len(first) <= 40 and not first.endswith("。"):
        seed.title = first
        seed.paragraphs = seed.paragraphs[1:]
    return seed


def load_seeds(directory: Path | None = None) -> dict[str, Seed]:
    directory = directory or default_seed_dir()
    if not directory.is_dir():
        return {}
    seeds = {}
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.txt")):
        seed = parse_seed(path)
        if seed is not None:
            seeds[seed.key] = seed
    return seeds
