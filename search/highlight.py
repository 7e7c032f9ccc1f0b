"""Snippets and highlighting cut from the original text.

Engines index segmented, normalised copies of the text, but a reader must see
what the author wrote.  These helpers find query terms in the normalised form
of the ORIGINAL text and map the positions back (OpenCC t2s and NFKC keep one
character per character almost always; when a conversion changes the length,
the normalised text is shown instead so positions stay right).

A snippet shows the text as a reader sees it: each line once, and no word said
twice in a row (:func:`search.text.collapse_repeats`), whatever the engine stored.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from search.text import collapse_repeats, normalize

_BREAKS = "。！？；\n!?;"
MAX_SECTION_CHARS = 200_000  # snippets look only at the first 200k characters of a section
MAX_MATCHES = 2_000  # and at the first 2,000 matches in it


@dataclass(frozen=True)
class Snippet:
    html: str
    source: str = ""
    page: int | None = None
    score: float = 0.0


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in terms))


def _comparable(text: str) -> tuple[str, str]:
    """(text to show, text to search in) with equal lengths."""
    norm = normalize(text)
    if len(norm) == len(text):
        return text, norm
    return norm, norm


def _mark(shown: str, spans: Sequence[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(shown[pos:s]))
        out.append("<mark>" + html.escape(shown[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(shown[pos:end]))
    return "".join(out)


def highlight(text: str, terms: Iterable[str]) -> str:
    """The whole of ``text``, escaped, with every term occurrence in <mark>."""
    pattern = _pattern(terms)
    if not text:
        return ""
    if pattern is None:
        return html.escape(text)
    shown, norm = _comparable(text)
    spans = [m.span() for m in pattern.finditer(norm)]
    return _mark(shown, spans, 0, len(shown))


def _best_window(norm: str, spans: list[tuple[int, int, str]], width: int) -> tuple[int, float]:
    """Start of the ``width``-long window covering the most (and longest) distinct terms.

    A sliding window over the match list: linear in the number of matches.
    """
    best_start, best_score = 0, 0.0
    counts: dict[str, int] = {}
    j = 0
    n = len(spans)
    for i in range(n):
        start = spans[i][0]
        while j < n and spans[j][1] <= start + width:
            counts[spans[j][2]] = counts.get(spans[j][2], 0) + 1
            j += 1
        # distinct terms weigh by length; repeats add a little
        score = sum(len(t) ** 1.5 + 0.2 * (c - 1) for t, c in counts.items() if c > 0)
        if score > best_score:
            best_start, best_score = start, score
        if j > i:
            term = spans[i][2]
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
    return best_start, best_score


def best_snippet(
    sections: Sequence[tuple[str, int | None, str]],
    terms: Iterable[str],
    width: int = 120,
) -> Snippet:
    """The best passage among ``sections`` ((source title, page, text) tuples).

    Without any match, the start of the first non-empty section is returned, so a
    hit always has some text to show.
    """
    pattern = _pattern(terms)
    best: Snippet | None = None
    for source, page, text in sections:
        if not text:
            continue
        if pattern is None:
            break
        text = collapse_repeats(text[:MAX_SECTION_CHARS])
        shown, norm = _comparable(text)
        spans = [(m.start(), m.end(), m.group()) for m in pattern.finditer(norm)][:MAX_MATCHES]
        if not spans:
            continue
        start, score = _best_window(norm, spans, width)
        if best is not None and score <= best.score:
            continue
        # start at a sentence boundary when one is close before the first match
        lead = max(0, start - width // 4)
        cut = max(norm.rfind(ch, lead, start) for ch in _BREAKS)
        begin = cut + 1 if cut >= 0 else lead
        end = min(len(shown), begin + width)
        body = _mark(shown, [(s, e) for s, e, _ in spans if e > begin and s < end], begin, end).strip()
        prefix = "…" if begin > 0 and cut < 0 else ""
        suffix = "…" if end < len(shown) else ""
        best = Snippet(html=prefix + body + suffix, source=source, page=page, score=score)
    if best is not None:
        return best
    for source, page, text in sections:
        text = collapse_repeats(text[: width * 8])
        if text:
            head = text[:width]
            return Snippet(
                html=html.escape(head.strip()) + ("…" if len(text) > width else ""),
                source=source,
                page=page,
            )
    return Snippet(html="")
