"""Indexing throughput and query latency of the search engine on news transcripts.

    python -m bench.search_news [--corpus ../shared/corpus/news.jsonl.gz] [--limit N] [--rerank]

Indexes every item through the real path (SearchDocument -> engine.rebuild,
segmentation included) into a temporary directory, then runs a fixed list of
200 queries (two-character words, longer words, phrases, common words) with
snippets and facets, and prints a table.  ``--rerank`` also computes every item's
semantic re-ranking vector (search/semantic.py; kept in memory, about 60 ms an item on
2 cores: over an hour for the whole corpus) and times the queries with re-ranking on, every
query embedding its question anew (the embedder's query cache is emptied before each pass);
``--rerank-sample K`` embeds only the K best word matches of each query, for latency alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "news.jsonl.gz"

TWO_CHAR = (
    "长江 经济 生态 改革 科技 创新 乡村 振兴 教育 医疗 就业 民生 法治 文化 旅游 农业 粮食 能源 环境 交通 "
    "扶贫 安全 开放 合作 外交 金融 市场 企业 制造 数字 海洋 航天 铁路 住房 养老 体育 人才 青年 党员 干部"
).split()
LONGER = (
    "高质量发展 乡村振兴战略 一带一路 共同富裕 中国式现代化 人类命运共同体 新质生产力 碳达峰 全过程人民民主 "
    "粤港澳大湾区 长江经济带 京津冀协同发展 黄河流域 生态文明建设 全面从严治党 主题教育 党史学习教育 "
    "营商环境 科技自立自强 制造业 防汛抗旱 疫情防控 脱贫攻坚 民营经济 对外开放 国有企业 基层治理 "
    "中央政治局 国务院常务会议 全国人大常委会 政府工作报告 十四五规划 两会 新时代 网络安全 数字经济 "
    "知识产权 养老服务"
).split()
PHRASES = [
    "推动长江经济带发展", "加快建设科技强国", "全面推进乡村振兴", "坚持以人民为中心", "构建新发展格局",
    "习近平总书记强调", "深化改革开放", "保障粮食安全", "加强生态环境保护", "推进高水平对外开放",
    "做好防汛救灾工作", "促进民营经济发展", "提高人民生活水平", "建设美丽中国", "推动高质量发展取得新成效",
    "实施就业优先政策", "发展新质生产力", "加强基层党组织建设", "弘扬伟大建党精神", "深入学习贯彻党的二十大精神",
    "统筹发展和安全", "稳住经济大盘", "推进健康中国建设", "加快农业农村现代化", "维护国家安全和社会稳定",
    "共建一带一路高质量发展", "全面依法治国", "构建人类命运共同体", "巩固拓展脱贫攻坚成果", "增进民生福祉",
    "三会一课的要求", "主题党日活动", "两学一做学习教育", "中央八项规定精神", "党风廉政建设",
    "文化自信", "科技创新引领产业创新", "全国统一大市场", "城市更新行动", "老旧小区改造",
]
COMMON = "发展 工作 建设 国家 中国 推进 加强 我国 全国 重要 人民 社会 经济 政策 会议 地区 部门 记者 今年 项目".split()


def fixed_queries() -> list[str]:
    base = TWO_CHAR + LONGER + PHRASES + COMMON
    combos = [f"{a} {b}" for a, b in zip(TWO_CHAR, LONGER, strict=False)]
    mixed = [f"{p} {c}" for p, c in zip(PHRASES, COMMON + TWO_CHAR, strict=False)]
    queries = (base + combos + mixed)[:200]
    assert len(queries) == 200, len(queries)
    return queries


def load_news(path: Path, limit: int) -> list[dict]:
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                items.append(json.loads(line))
                if limit and len(items) >= limit:
                    break
    return items


def documents(items: list[dict]) -> Iterator:
    from search.backends.base import SearchDocument

    columns = ("国内", "国际", "评论", "专题")
    for i, item in enumerate(items):
        date = dt.date.fromisoformat(item["date"]) if item.get("date") else None
        yield SearchDocument(
            id=f"news:{item['id']}",
            kind="article",
            title=item.get("title", ""),
            body=item.get("body", ""),
            date=date,
            column=columns[i % len(columns)],
            audience=("public", "public", "public", "members")[i % 4],
            topics=["时政"] if i % 3 == 0 else ["经济", "社会"],
            url=f"/news/{item['id']}/",
        )


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="index only the first N items (0: all)")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the 200 queries")
    parser.add_argument("--workers", type=int, default=1, help="segmentation processes during indexing (INDEX_WORKERS)")
    parser.add_argument("--rerank", action="store_true", help="embed every item and time the queries with semantic re-ranking")
    parser.add_argument(
        "--rerank-sample",
        type=int,
        default=0,
        metavar="K",
        help="with --rerank: embed only the K best word matches of each query (minutes instead of an hour), "
        "enough to send every re-ranked query through the whole path; for latency, not quality",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        sys.exit(f"bench.search_news: corpus not found: {args.corpus}\nPut news.jsonl.gz at {DEFAULT_CORPUS} or pass --corpus.")

    from search.backends.base import SearchQuery
    from search.backends.embedded import EmbeddedSearchBackend

    items = load_news(args.corpus, args.limit)
    chars = sum(len(i.get("title", "")) + len(i.get("body", "")) for i in items)
    queries = fixed_queries()
    with tempfile.TemporaryDirectory() as tmp:
        backend = EmbeddedSearchBackend({"PATH": tmp, "INDEX_WORKERS": args.workers})
        load0 = os.getloadavg()[0]
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        n = backend.rebuild(documents(items))
        t_index = time.perf_counter() - t0
        cpu_index = _cpu_seconds() - cpu0
        size = dir_size(tmp)
        t_vectors = None
        if args.rerank:
            from search.backends.reranked import RerankedSearchBackend
            from search.semantic import E5Reranker

            to_embed = list(documents(items))
            if args.rerank_sample:
                audiences = frozenset({"public", "members"})
                wanted = {h.id for q in queries for h in backend.search(SearchQuery(q=q, audiences=audiences, page_size=args.rerank_sample)).hits}
                to_embed = [d for d in to_embed if d.id in wanted]
            backend = RerankedSearchBackend(backend, E5Reranker({"STORE": "memory"}))
            t0 = time.perf_counter()
            backend.reranker.embed(to_embed, progress=lambda done, total: print(f"\r  vectors {done}/{total}", end="", file=sys.stderr), total=len(to_embed))
            print(file=sys.stderr)
            t_vectors = time.perf_counter() - t0
            n_vectors = len(to_embed)
        audiences = frozenset({"public", "members"})
        facets = ["kind", "topics", "year", "column"]
        for q in queries[:20]:  # warm-up
            backend.search(SearchQuery(q=q, audiences=audiences, facets=facets))
        latencies: list[float] = []
        totals = 0
        for _ in range(args.rounds):
            if backend.reranker is not None:
                backend.reranker.embedder.clear_cache()  # every timed query embeds its question
            for q in queries:
                t = time.perf_counter()
                res = backend.search(SearchQuery(q=q, audiences=audiences, facets=facets, page_size=10))
                latencies.append((time.perf_counter() - t) * 1000)
                totals += res.total
        t = time.perf_counter()
        sugg = [backend.suggest(q[:2], audiences) for q in queries[:100]]
        t_sugg = (time.perf_counter() - t) * 1000 / 100
    latencies.sort()
    load1 = os.getloadavg()[0]

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    rows = [
        ("items indexed", f"{n}"),
        ("characters", f"{chars / 1e6:.1f} M"),
        ("index time", f"{t_index:.1f} s"),
        ("throughput", f"{n / t_index:,.0f} items/s"),
        # CPU time of this process, its threads and its workers: on a shared machine
        # wall-clock throughput follows the other load, this does not
        ("index CPU", f"{cpu_index:.1f} s"),
        ("items/CPU-s", f"{n / max(cpu_index, 1e-9):,.0f}"),
        ("index size", f"{size / 1e6:.1f} MB"),
        ("re-ranking", "semantic" if t_vectors is not None else "off"),
        ("vectors", "-" if t_vectors is None else f"{n_vectors} ({n_vectors / t_vectors:,.1f} items/s)"),
        ("queries timed", f"{len(latencies)}"),
        ("latency p50", f"{pct(0.5):.2f} ms"),
        ("latency p95", f"{pct(0.95):.2f} ms"),
        ("latency p99", f"{pct(0.99):.2f} ms"),
        ("latency mean", f"{statistics.fmean(latencies):.2f} ms"),
        ("suggest mean", f"{t_sugg:.2f} ms"),
        ("avg hits/query", f"{totals / max(1, len(latencies)):,.0f}"),
        ("suggestions", f"{sum(len(s) for s in sugg)}"),
        # other processes on a shared machine slow the wall-clock numbers: say how busy it was
        ("load avg start/end", f"{load0:.1f} / {load1:.1f}"),
        ("CPUs", f"{os.cpu_count()}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"search news benchmark  engine=embedded  workers={args.workers}  corpus={args.corpus}")
    print("(queries with snippets and facets kind/topics/year/column, audiences public+members)")
    print("-" * (width + 18))
    for k, v in rows:
        print(f"{k:<{width}}  {v:>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
