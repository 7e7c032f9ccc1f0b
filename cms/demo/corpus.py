"""News items from ``../shared/corpus/news.jsonl.gz``, sorted into the demo's columns by ``topics.classify``.

The corpus is read at run time and never copied into the project; when it is missing the demo writes its
own articles (``content.own_articles``) instead.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from cms.demo.topics import classify

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "news.jsonl.gz"
BOILERPLATE = ("央视网消息", "（新闻联播）：", "(新闻联播)：")


@dataclass(frozen=True)
class Item:
    column: str
    title: str
    paragraphs: tuple[str, ...]
    date: dt.date


def paragraphs_of(body: str, limit: int = 8) -> list[str]:
    """The body's paragraphs without the broadcaster's dateline."""
    out = []
    for line in body.split("\n"):
        line = line.strip()
        for prefix in BOILERPLATE:
            if line.startswith(prefix):
                line = line[len(prefix):].lstrip("：: ")
        if line:
            out.append(line)
    return out[:limit]


def column_items(path: Path = CORPUS) -> dict[str, list[Item]] | None:
    """Every corpus item that fits a column, by column, newest first (ties by title); None without a corpus."""
    if not path.is_file():
        return None
    by_column: dict[str, list[Item]] = {}
    seen: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            title = raw["title"].strip()
            if title in seen:
                continue
            paragraphs = paragraphs_of(raw["body"])
            column = classify(title, "\n".join(paragraphs))  # the text as the page will carry it
            if column is None or not paragraphs:
                continue
            seen.add(title)
            by_column.setdefault(column, []).append(
                Item(column, title, tuple(paragraphs), dt.date.fromisoformat(raw["date"]))
            )
    for items in by_column.values():
        items.sort(key=lambda item: (-item.date.toordinal(), item.title))
    return by_column


def headline_items(by_column: dict[str, list[Item]], column: str, count: int) -> list[Item]:
    """The newest ``count`` items of ``column`` whose titles fit a home-page headline list (8–30
    characters), one per series: a title's 【series】 tag, or else its first four characters, is taken once
    (so a week of one campaign's reports, or a run of 国务院印发…, fills one line, not the column)."""
    picked, series = [], set()
    for item in by_column.get(column, []):
        if not 8 <= len(item.title) <= 30 or len(item.paragraphs) < 2:
            continue
        key = item.title.split("】", 1)[0] if item.title.startswith("【") else item.title[:4]
        if key in series:
            continue
        series.add(key)
        picked.append(item)
        if len(picked) == count:
            break
    return picked
