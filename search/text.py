"""Chinese text analysis shared by every search engine.

The same :class:`Analyzer` segments text at index time and at query time, so a
query is always cut into the tokens the index holds.  It is pure Python (rjieba
+ OpenCC) and takes its custom words, synonyms and stop words as data, so the
benchmarks and the engines can use it without Django; ``search.dictionary``
builds one from the editors' dictionary in the database.

Pipeline: NFKC (full-width to half-width) -> OpenCC traditional to simplified
(queries and indexed text alike, in every locale: a zh-hans page may quote
traditional text, and a query in either form must find it) -> lower case ->
rjieba search-mode segmentation (a long word also yields its
dictionary sub-words: 中华人民共和国 -> 中华, 人民, 共和国, ...) -> drop
punctuation, whitespace and stop words.  A query also loses its question words
(是否, 可以, 怎么办 ...) and yields, besides its words, the character bigrams and
the single characters of what is left; the engines match words and bigrams and
let the characters only rank what those matched.

A dictionary word (the editors' custom words and synonyms, kept whole by the
segmenter) is matched as a word only: a query's bigrams are taken from the text
around its dictionary words, never from inside them nor across their edges, so
三会一课 does not find 大会一般性 through 会一 (:meth:`Analyzer.query`).  On the
index side :meth:`Analyzer.bigram_text` cuts the text at its dictionary words'
edges the same way, so an engine's bigram field holds no pair that straddles one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import opencc
import rjieba

__all__ = [
    "Analyzer",
    "CJK_CHAR_PATTERN",
    "DEFAULT_CUSTOM_WORDS",
    "DEFAULT_QUESTION_WORDS",
    "DEFAULT_STOPWORDS",
    "EXACT_ENOUGH",
    "QueryTerms",
    "cjk_bigrams",
    "cjk_runs",
    "collapse_repeats",
    "load_stopwords",
    "normalize",
    "is_doc_number",
    "normalize_doc_number",
]

#: One CJK character (the ranges every engine's character fields cover).
CJK_CHAR_PATTERN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_CJK_RUN = re.compile(CJK_CHAR_PATTERN + "+")
_CJK_CHAR = re.compile(CJK_CHAR_PATTERN)
_CJK_RUN2 = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_SPACES = re.compile(r"\s+")

# Function words that carry no topic.  Deliberately short: a legal or policy
# question's meaning often hides in words like 可以 / 应当, so only particles,
# pronouns and connectives that every document contains are here.  A fuller
# list (for instance STARD's) can be passed to the Analyzer.
DEFAULT_STOPWORDS: frozenset[str] = frozenset(
    """的 了 和 与 及 或 是 在 对 把 被 将 就 也 都 而 并 等 之 其 这 那 这个 那个 这些 那些
    我 你 他 她 它 我们 你们 他们 什么 怎么 怎样 如何 吗 呢 吧 啊 呀 哪些 哪个 为什么
    一个 有 没有 会 能 要 请问 请 谁 些 么 个 着 过 于 以 从 由 向 为 所 但 若 如果 因为 所以""".split()
)

# Words that frame a question rather than say what it is about (是否 …, 可以 … 吗,
# 怎么办, 哪些): dropped from queries only, with their characters and bigrams, so a
# colloquial question scores on its topic words.  Indexed text keeps them.
DEFAULT_QUESTION_WORDS: frozenset[str] = frozenset(
    """是否 能否 可否 可以 能不能 可不可以 会不会 是不是 有没有 要不要 怎么办 怎么样 怎样才能 如何才能
    什么 什么样 怎么 怎样 如何 为什么 为何 哪 哪些 哪个 哪里 哪儿 何时 何种 多少 咋 咋办 啥 请问
    吗 呢 吧""".split()
)

# Party-building terms kept whole out of the box; editors add more in the admin
# (search.DictionaryEntry).  Without them jieba cuts 三会一课 into 三会 / 一课.
DEFAULT_CUSTOM_WORDS: tuple[str, ...] = tuple(
    """三会一课 两学一做 主题党日 组织生活会 民主评议党员 谈心谈话 党员大会 支部委员会 党小组会
    入党积极分子 发展对象 预备党员 正式党员 党费 党组织关系 不忘初心 牢记使命 四个意识 四个自信
    两个维护 两个确立 中央八项规定 党史学习教育 主题教育 党风廉政建设 全面从严治党 基层党组织
    党建引领 红色教育 微党课 学习强国 新时代文明实践""".split()
)

#: A short keyword query (:attr:`QueryTerms.is_keyword`) whose words and phrases alone find at least
#: this many documents is answered by them alone (:meth:`QueryTerms.exact`): the bigram fallback's
#: partial matches only come in when the words find fewer.
EXACT_ENOUGH = 10

_t2s_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# Full-width letters, digits and the ideographic space, mapped to half-width
# (what NFKC does for them, at a fraction of NFKC's cost on long text).
# Full-width punctuation is left alone: it never becomes a token.
_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
_FULLWIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalize(text: str, *, t2s: bool = True) -> str:
    """Canonical form of ``text`` for matching: half-width, simplified, lower case.

    OpenCC's t2s conversion maps one character to one character for the
    overwhelming majority of text, so offsets in the result usually line up
    with the original (the snippet code checks and falls back when not).
    Index and query text must both be converted (it is cheap: about 8 µs per
    news item); ``t2s=False`` is only for callers that compare text which is
    never matched against the index.
    """
    if not text:
        return ""
    if _FULLWIDTH.search(text):
        text = text.translate(_FULLWIDTH_TABLE)
    if t2s:
        with _t2s_lock:  # OpenCC objects are not documented as thread-safe.
            text = _t2s().convert(text)
    return text.lower()


_DOC_NUMBER_BRACKETS = str.maketrans({"〔": "[", "〕": "]", "［": "[", "］": "]", "(": "[", ")": "]", "（": "[", "）": "]", "【": "[", "】": "]"})


def normalize_doc_number(value: str) -> str:
    """Canonical 文号 (document number): 国办发〔2024〕12号 and 国办发[2024]12号 match."""
    value = normalize(value).translate(_DOC_NUMBER_BRACKETS)
    return _SPACES.sub("", value)


# 国办发〔2024〕12号, 中组发[2019]3号, 京政发（2023）7号 ... once normalised: brackets become [ ].
_DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fffa-z]{1,20}\[\d{4}\]\d{1,5}号")


def is_doc_number(value: str) -> bool:
    """Whether a normalised value is shaped like a 文号 (国办发[2024]12号)."""
    return bool(_DOC_NUMBER_RE.fullmatch(value))


def find_doc_number(text: str) -> str:
    """The first space-separated part of ``text`` shaped like a 文号 (normalised), else the whole text."""
    for part in text.split():
        norm = normalize_doc_number(part)
        if is_doc_number(norm):
            return norm
    return normalize_doc_number(text)


def load_stopwords(path: str | Path) -> frozenset[str]:
    """One stop word per line (blank lines ignored), normalised like the text."""
    with open(path, encoding="utf-8") as fh:
        return frozenset(normalize(line.strip()) for line in fh if line.strip())


def cjk_runs(text: str, min_len: int = 2) -> list[str]:
    """The runs of ``min_len`` (two or one) or more CJK characters in already-normalised text.

    The index side of :func:`cjk_bigrams`: an engine cuts each run into
    overlapping pairs itself (at native speed), so no pair spans punctuation,
    digits or Latin text (the query side never sends such a pair), and the
    engine indexes fewer bigrams than from the whole text (a quarter fewer
    on the news corpus).  With ``min_len=1``, the same for single characters.
    """
    return (_CJK_RUN2 if min_len >= 2 else _CJK_RUN).findall(text)


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of every CJK run in already-normalised text.

    A bigram field finds words the dictionary does not know (names, new terms)
    and gives two-character queries a match even where jieba cut differently.
    """
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def collapse_repeats(text: str) -> str:
    """``text`` as a reader should see it in a snippet: each line once, no word said twice in a row.

    Page text assembled from several fields often repeats itself (a summary that is also the first
    line of the body, "央视网消息 央视网消息" from an imported feed). Blank lines go too, and so
    does a line that is the beginning of the next one or part of the one before.
    """
    if not text:
        return ""
    seen: set[str] = set()
    out: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        # a word dropped when the next one says it again (央视网消息 央视网消息（新闻联播）)
        nexts = [*words[1:], ""]
        clean = " ".join(w for w, n in zip(words, nexts, strict=True) if not (n.startswith(w) and (n == w or len(w) > 1)))
        if clean in seen:
            continue
        seen.add(clean)
        out.append(clean)
    # a line that only repeats part of the line before or the start of the next one (a summary cut from
    # the first paragraph, a lead that a feed repeats as its own paragraph)
    kept: list[str] = []
    for line, after in zip(out, [*out[1:], ""], strict=True):
        if (after and after.startswith(line)) or (kept and len(line) > 1 and line in kept[-1]):
            continue
        kept.append(line)
    return "\n".join(kept)


@dataclass(frozen=True)
class QueryTerms:
    """A query as the engines need it.

    ``groups`` holds one entry per distinct query token: the token and its
    synonyms, any of which may match; ``counts`` says how often each group's
    token occurs in the query (a word a question repeats is what it is about).
    ``phrase`` is the token sequence in order (precise-mode cut) for
    phrase/proximity boosts; ``bigrams`` feed the fallback field; ``chars``
    (the CJK characters of the query's words, without stop words) only add to
    the score of documents the rest matched, so 续租 still counts for a text
    that says 承租 without widening what a query finds.
    """

    text: str
    groups: tuple[tuple[str, ...], ...]
    phrase: tuple[str, ...]
    bigrams: tuple[str, ...]
    doc_number: str
    counts: tuple[int, ...] = ()
    chars: tuple[str, ...] = ()
    content: str = ""  # ``text`` without its question words, for engines that analyse a query themselves

    def weight(self, i: int, per_repeat: float = 0.5) -> float:
        """Query-term-frequency weight of group ``i``: 1 for a word said once, +``per_repeat`` per repeat."""
        count = self.counts[i] if i < len(self.counts) else 1
        return 1.0 + per_repeat * (count - 1)

    def exact(self) -> QueryTerms:
        """The same query without its bigram fallback: words and phrases only.

        An engine counts this first for a :attr:`is_keyword` query and answers with it alone when it
        finds :data:`EXACT_ENOUGH` documents, so partial bigram matches never crowd out documents
        that contain the words themselves.
        """
        return replace(self, bigrams=())

    @property
    def is_keyword(self) -> bool:
        """A short keyword query (at most three words, 12 characters): exact hits should come first."""
        return bool(self.groups) and len(self.groups) <= 3 and len(self.content or self.text) <= 12

    def pairs(self) -> list[tuple[str, str]]:
        """Distinct adjacent pairs of the phrase, for "these two words close together" boosts."""
        return [p for p in dict.fromkeys(zip(self.phrase, self.phrase[1:], strict=False)) if p[0] != p[1]]

    @property
    def is_empty(self) -> bool:
        """Nothing but stop words and punctuation: such a query matches nothing."""
        return not self.groups

    def all_terms(self) -> set[str]:
        return {term for group in self.groups for term in group}


@dataclass
class Analyzer:
    """Segmenter with custom words, synonyms and stop words.

    ``custom_words`` are kept whole (三会一课, 两学一做, 主题党日); ``synonyms`` is
    a list of groups of interchangeable words, expanded at query time.  Both
    change how text is cut (synonym words are kept whole too), so after an edit
    the index is rebuilt (``search.tasks.notify`` enqueues that).
    """

    custom_words: Iterable[str] = DEFAULT_CUSTOM_WORDS
    synonyms: Iterable[Iterable[str]] = ()
    stopwords: frozenset[str] = DEFAULT_STOPWORDS
    question_words: frozenset[str] = DEFAULT_QUESTION_WORDS
    _jieba: rjieba.Jieba = field(init=False, repr=False)
    _synonyms: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _whole: frozenset[str] = field(init=False, repr=False)
    _whole_re: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._jieba = rjieba.Jieba()
        words = sorted({normalize(w).strip() for w in self.custom_words} - {""})
        self.custom_words = tuple(words)
        for word in words:
            self._jieba.add_word(word, None, None)
        self.stopwords = frozenset(normalize(w) for w in self.stopwords)
        self.question_words = frozenset(normalize(w) for w in self.question_words)
        groups: dict[str, set[str]] = {}
        for raw_group in self.synonyms:
            group = {normalize(w).strip() for w in raw_group} - {""}
            for word in group:
                # Synonym words are also kept whole by the segmenter.
                if not self._jieba.has_word(word) and len(word) > 1:
                    self._jieba.add_word(word, None, None)
                groups.setdefault(word, set()).update(group)
        self._synonyms = {w: tuple(sorted(g)) for w, g in groups.items()}
        # Dictionary words: matched as words only, never through bigrams across their edges.
        whole = {w for w in (*words, *groups) if len(w) > 1 and _CJK_RUN2.fullmatch(w)}
        self._whole = frozenset(whole)
        self._whole_re = (
            re.compile("|".join(re.escape(w) for w in sorted(whole, key=lambda w: (-len(w), w)))) if whole else None
        )

    def is_dictionary_word(self, token: str) -> bool:
        """Whether ``token`` (normalised) is one of the editors' words (custom words, synonyms)."""
        return token in self._whole

    def bigram_text(self, text: str, *, normalized: bool = False) -> str:
        """``text`` with a space at both edges of every dictionary word, for an engine's bigram field.

        An engine cuts its bigrams from the CJK runs of this text (:func:`cjk_runs`), so no pair
        straddles a dictionary word's edge: 开展三会一课 gives 开展 and the pairs inside 三会一课,
        not 展三.
        """
        if not normalized:
            text = normalize(text)
        if self._whole_re is None:
            return text
        return self._whole_re.sub(lambda m: f" {m.group()} ", text)

    def _bigram_source(self, content: str) -> str:
        """The query text bigrams are taken from: without its dictionary words, which match as words.

        The precise cut decides where the dictionary words are (so one is found only where the
        segmenter keeps it whole); each leaves a space, so no bigram spans its edge.
        """
        if not self._whole or not any(w in content for w in self._whole):
            return content
        return "".join(" " if tok in self._whole else tok for tok in self._jieba.cut(content, True))

    # -- index side -------------------------------------------------------
    def tokens(self, text: str, *, normalized: bool = False) -> list[str]:
        """Search-mode tokens of ``text`` in order, without stop words or punctuation."""
        if not normalized:
            text = normalize(text)
        stop = self.stopwords
        # str.isalnum() is true for CJK characters, letters and digits: it drops
        # punctuation and whitespace tokens at C speed.
        return [tok for tok in self._jieba.cut_for_search(text, True) if tok.isalnum() and tok not in stop]

    def index_text(self, text: str, *, normalized: bool = False) -> str:
        """Space-joined search-mode tokens, for an engine field with a whitespace analyzer.

        Stop words and punctuation stay in (they cost index space, not ranking:
        :meth:`query` never asks for them), which keeps indexing fast.
        """
        if not normalized:
            text = normalize(text)
        return " ".join(self._jieba.cut_for_search(text, True))

    def precise_tokens(self, text: str, *, normalized: bool = False) -> list[str]:
        if not normalized:
            text = normalize(text)
        stop = self.stopwords
        return [tok for tok in self._jieba.cut(text, True) if tok.isalnum() and tok not in stop]

    # -- query side -------------------------------------------------------
    def synonyms_of(self, token: str) -> tuple[str, ...]:
        return self._synonyms.get(token, (token,))

    def query(self, text: str, *, max_terms: int = 32) -> QueryTerms:
        """Analyse user input.  Never raises: any string gives a (maybe empty) QueryTerms.

        Input is treated as words only; no operator or field syntax is read, so
        nothing a user types reaches an engine's query parser.  Question words
        (:data:`DEFAULT_QUESTION_WORDS`) are cut out of the text before words,
        bigrams and characters are taken, unless nothing else is left.
        """
        text = (text or "")[:500]
        norm = normalize(text)
        content = self._without_question_words(norm)
        counts: dict[str, int] = {}
        for tok in self.tokens(content, normalized=True):
            if tok in counts:
                counts[tok] += 1
            elif len(counts) < max_terms:
                counts[tok] = 1
        groups = [self.synonyms_of(tok) for tok in counts]
        phrase = tuple(self.precise_tokens(content, normalized=True)[:max_terms])
        stop = self.stopwords
        bigrams = tuple(dict.fromkeys(b for b in cjk_bigrams(self._bigram_source(content)) if b not in stop))[:max_terms]
        chars = tuple(dict.fromkeys(c for c in _CJK_CHAR.findall(content) if c not in stop))[:max_terms]
        return QueryTerms(
            text=norm.strip(),
            groups=tuple(groups),
            phrase=phrase,
            bigrams=bigrams,
            doc_number=find_doc_number(text)[:200],
            counts=tuple(counts.values()),
            chars=chars,
            content=_SPACES.sub(" ", content).strip(),
        )

    def _without_question_words(self, norm: str) -> str:
        """``norm`` with its question words blanked out (precise-mode cut), or ``norm`` if that leaves no word."""
        qwords = self.question_words
        if not qwords:
            return norm
        cut = self._jieba.cut(norm, True)
        if not any(tok in qwords for tok in cut):
            return norm
        content = "".join(" " if tok in qwords else tok for tok in cut)
        stop = self.stopwords
        if not any(tok.isalnum() and tok not in stop for tok in self._jieba.cut(content, True)):
            return norm
        return content
