"""Snippets and highlighting cut from the original text.

Engines index segmented, normalised copies of the text, but a reader must see
what the author wrote.  These helpers find query terms in the normalised form
of the ORIGINAL text and map the positions back (OpenCC t2s and NFKC keep one
character per character almost always; when a conversion changes the length,
the normalised text is shown instead so positions stay right).

A snippet shows the text as a reader sees it: each line once, and no word said
twice in a row (:func:`search.text.collapse_repeats`), whatever the engine stored.

Cost: a page of ten hits is cut on every search request, so a section is read only
around its first matches: its first :data:`SCAN_CHARS` characters when a term occurs
there, else :data:`SCAN_CHARS` characters around the first occurrence further on
(found chunk by chunk, normalising only what is searched).  The best window is
chosen among those matches in one linear pass, and the query's pattern is compiled
once per set of terms.  An engine keeps what it cut in a :class:`CutCache`, keyed by a digest of
the stored text and the set of words, so a question asked again costs no cutting (most of a
search request's Python time otherwise).
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from search.text import collapse_repeats, normalize

_BREAKS = "。！？；\n!?;"
MAX_SECTION_CHARS = 200_000  # snippets look only at the first 200k characters of a section
MAX_MATCHES = 2_000  # and at the first 2,000 matches in it
#: characters of a section a snippet is chosen from: the head when a term occurs in it, else the
#: text around the first occurrence further on
SCAN_CHARS = 3_000
_CHUNK = 8_000  # characters normalised at a time while looking for the first occurrence


@dataclass(frozen=True)
class Snippet:
    html: str
    source: str = ""
    page: int | None = None
    score: float = 0.0


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(frozenset(t for t in terms if t))


@functools.lru_cache(maxsize=256)
def _compiled(terms: frozenset[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    # longest first, then alphabetical: the same alternation (same matches) for the same terms
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=lambda t: (-len(t), t))))


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

    A sliding window over the match list, its score kept up to date as matches enter and leave:
    linear in the number of matches.
    """
    best_start, best_score = 0, 0.0
    counts: dict[str, int] = {}
    distinct = 0.0  # distinct terms weigh by length (recomputed only when the set of terms changes)
    repeats = 0  # repeats add a little
    j = 0
    n = len(spans)
    for i in range(n):
        start = spans[i][0]
        while j < n and spans[j][1] <= start + width:
            term = spans[j][2]
            c = counts.get(term, 0)
            counts[term] = c + 1
            if c:
                repeats += 1
            else:
                distinct = sum(len(t) ** 1.5 for t in counts)
            j += 1
        score = distinct + 0.2 * repeats
        if score > best_score:
            best_start, best_score = start, score
        if j > i:
            term = spans[i][2]
            c = counts[term] - 1
            if c:
                counts[term] = c
                repeats -= 1
            else:
                del counts[term]
                distinct = sum(len(t) ** 1.5 for t in counts)
    return best_start, best_score


def _further(text: str, pattern: re.Pattern[str], longest: int) -> tuple[str, bool, bool]:
    """The :data:`SCAN_CHARS` characters of ``text`` around the first occurrence of a term after its
    head (from the start of its line when that is close), found chunk by chunk within the first
    :data:`MAX_SECTION_CHARS` characters ("" when none); and whether the text goes on before it
    (mid-line) and after it.  ``longest``: the longest term's length."""
    limit = min(len(text), MAX_SECTION_CHARS)
    pos = max(0, SCAN_CHARS - longest)  # chunks overlap by a term's length: none is cut in two
    while pos < limit:
        chunk = text[pos : min(limit, pos + _CHUNK)]
        found = pattern.search(normalize(chunk))
        if found is not None:
            # normalisation keeps one character per character almost always: the hit is here or near
            hit = pos + min(found.start(), len(chunk))
            begin = max(0, hit - SCAN_CHARS // 4)
            line = text.rfind("\n", max(0, begin - SCAN_CHARS // 4), begin)
            begin = line + 1 if line >= 0 else begin
            return text[begin : begin + SCAN_CHARS], line < 0, begin + SCAN_CHARS < len(text)
        if pos + _CHUNK >= limit:
            break
        pos += _CHUNK - longest
    return "", False, False


def _matches(region: str, pattern: re.Pattern[str]) -> tuple[str, str, list[tuple[int, int, str]]]:
    """(text to show, text searched, matches) of a region as a reader sees it."""
    shown, norm = _comparable(collapse_repeats(region))
    return shown, norm, [(m.start(), m.end(), m.group()) for m in pattern.finditer(norm)][:MAX_MATCHES]


def best_snippet(
    sections: Sequence[tuple[str, int | None, str]],
    terms: Iterable[str],
    width: int = 120,
) -> Snippet:
    """The best passage among ``sections`` ((source title, page, text) tuples).

    Without any match, the start of the first non-empty section is returned, so a
    hit always has some text to show.
    """
    wanted = frozenset(t for t in terms if t)
    pattern = _compiled(wanted)
    longest = max(map(len, wanted), default=1)
    best: Snippet | None = None
    for source, page, text in sections:
        if not text:
            continue
        if pattern is None:
            break
        # the head first (most hits match there), else the text around the first match further on
        cut_before, cut_after = False, len(text) > SCAN_CHARS
        shown, norm, spans = _matches(text[:SCAN_CHARS], pattern)
        if not spans and cut_after:
            region, cut_before, cut_after = _further(text, pattern, longest)
            shown, norm, spans = _matches(region, pattern) if region else ("", "", [])
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
        prefix = "…" if (begin > 0 or cut_before) and cut < 0 else ""
        suffix = "…" if end < len(shown) or cut_after else ""
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


class CutCache:
    """What was cut from a stored document for a set of words (a hit's title and snippet), kept per
    process for the most recent ``size`` (document text, words) pairs.

    The key is the caller's: a digest of everything the cut reads (the stored text, the title and
    the attachments) and the words, so a changed document is a new key and never gets the old
    snippet; nothing needs invalidating.  Thread-safe (a web worker serves several threads).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], object]) -> object:
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is not _MISSING:
                self._items.move_to_end(key)
                self.hits += 1
                return value
            self.misses += 1
        value = make()  # outside the lock: two threads may cut the same pair once each, no harm
        if self.size > 0:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


_MISSING = object()
