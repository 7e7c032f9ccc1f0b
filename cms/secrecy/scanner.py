"""The secrecy scanner (上网信息保密审查): what in a page or a file must be looked at before it goes online.

It reads a page's title, summary, its other text fields, every StreamField block and the text of the
documents it attaches (the text search has extracted already, ``search.extraction``: cached by file
hash, extracted once), and reports each finding with its kind, the text matched (identity and mobile
numbers masked: the record is read by people who need not learn them), its place and a suggestion.

What it looks for:

* secrecy markers (密级标志). 绝密, 机密, 内部资料, 内部文件, 注意保密, 不得外传, 内部刊物 and ★ are
  reported wherever they appear. 秘密 alone is an ordinary word of party history (秘密交通线, 秘密战线,
  秘密会议), so it is reported only as a marking: followed by ★ or 级 or a period of protection
  (秘密★1年, 秘密级), or as 秘密文件 / 秘密资料, or standing by itself (【秘密】, a line saying 秘密).
  揭秘 (reveal) does not contain 秘密 and is never reported.
* citizen identity numbers: 18 characters whose ISO 7064 MOD 11-2 check character is right (a
  random 18-digit number is not reported: one in eleven would pass, and those are reported);
* mobile numbers: 11 digits 1[3-9]xxxxxxxxx, not part of a longer number;
* the sensitive words editors keep (片段 → 敏感词);
* the wrong forms editors keep with their right forms (片段 → 规范用语), suggesting the right form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from django.utils.html import strip_tags

MARKER = "marker"
ID_NUMBER = "id_number"
MOBILE = "mobile"
SENSITIVE = "sensitive_word"
WRONG_FORM = "wrong_form"

KIND_LABELS = {
    MARKER: "密级标志",
    ID_NUMBER: "身份证号码",
    MOBILE: "手机号码",
    SENSITIVE: "敏感词",
    WRONG_FORM: "不规范用语",
}

_ALWAYS_MARKERS = (
    "绝密", "机密", "内部资料", "内部文件", "内部刊物", "注意保密", "不得外传", "★",
    # the same in traditional characters (zh-hant pages, pages written in traditional characters)
    "絕密", "機密", "內部資料", "內部文件", "內部刊物", "不得外傳",
)
_MARKER_RE = re.compile(
    "|".join(re.escape(m) for m in _ALWAYS_MARKERS)
    # 秘密 as a marking: 秘密★…, 秘密级, 秘密文件/资料, or standing alone (no Chinese letter either side)
    + r"|秘密(?=\s*[★☆]|级|級|文件|资料|資料)"
    + r"|(?<![\u4e00-\u9fff])秘密(?![\u4e00-\u9fff])"
)
_ID_RE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str  # what matched (masked for identity and mobile numbers)
    place: str  # where: 标题, 摘要, 正文第2块（段落）, 附件《…》第3页
    suggestion: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_dict(self) -> dict:
        return asdict(self)


def valid_id_number(number: str) -> bool:
    """Whether an 18-character citizen identity number has the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _mask(number: str) -> str:
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


class Vocabulary:
    """The editors' lists (sensitive words, wrong forms), read once per scan of several texts."""

    def __init__(self, sensitive: Iterable[str] = (), wrong_forms: Iterable[tuple[str, str]] = ()):
        self.sensitive = sorted({w for w in sensitive if w}, key=len, reverse=True)
        self.wrong_forms = [(w, r) for w, r in wrong_forms if w]

    @classmethod
    def load(cls) -> Vocabulary:
        from .models import PreferredTerm, SensitiveWord

        return cls(
            SensitiveWord.objects.values_list("word", flat=True),
            PreferredTerm.objects.values_list("wrong", "correct"),
        )


def scan_text(text: str, place: str, vocabulary: Vocabulary) -> Iterator[Finding]:
    """The findings in one piece of text (HTML tags are ignored)."""
    if not text:
        return
    text = strip_tags(text)
    for m in _MARKER_RE.finditer(text):
        yield Finding(MARKER, m.group(), place, "含密级标志：确认内容不涉密并删除标志后再上网，涉密内容不得上网")
    for m in _ID_RE.finditer(text):
        if valid_id_number(m.group()):
            yield Finding(ID_NUMBER, _mask(m.group()), place, "含公民身份号码：删除或隐去中间位数")
    for m in _MOBILE_RE.finditer(text):
        yield Finding(MOBILE, _mask(m.group()), place, "含手机号码：确认本人同意公开，否则删除或隐去中间位数")
    for word in vocabulary.sensitive:
        if word in text:
            yield Finding(SENSITIVE, word, place, "含敏感词：请核实后修改或删除")
    for wrong, right in vocabulary.wrong_forms:
        # a wrong form inside its own right form (wrong 书记处, right 中央书记处) is not a finding
        if wrong in (text.replace(right, "") if right and wrong in right else text):
            yield Finding(WRONG_FORM, wrong, place, f"改为「{right}」" if right else "请改为规范用语")


# -- pages --------------------------------------------------------------------------------------------
def _stream_places(label: str, value) -> Iterator[tuple[str, str]]:
    """(place, text) of each top-level block of a StreamField value."""
    for index, child in enumerate(value, start=1):
        block_label = str(child.block.label or child.block_type)
        texts = child.block.get_searchable_content(child.value)
        text = "\n".join(str(t) for t in texts if t)
        yield f"{label}第{index}块（{block_label}）", text


def _documents_in(value) -> Iterator:
    """Documents chosen anywhere inside a StreamField value."""
    from wagtail.documents.models import AbstractDocument

    if isinstance(value, AbstractDocument):
        yield value
    elif isinstance(value, dict):  # StructValue
        for v in value.values():
            yield from _documents_in(v)
    elif hasattr(value, "raw_data") or isinstance(value, list | tuple):  # StreamValue, ListValue
        for child in value:
            yield from _documents_in(getattr(child, "value", child))


def page_texts(page) -> Iterator[tuple[str, str]]:
    """(place, text) of everything a page publishes as text."""
    from django.db import models
    from wagtail.fields import RichTextField, StreamField
    from wagtail.models import Page

    yield "标题", page.title
    base_fields = {f.name for f in Page._meta.fields}
    for field in type(page)._meta.fields:
        if field.name in base_fields or field.name in ("audience", "classification") or field.choices:
            continue
        value = getattr(page, field.name, None)
        label = str(field.verbose_name)
        if isinstance(field, StreamField):
            yield from _stream_places(label, value or [])
        elif isinstance(field, RichTextField | models.TextField | models.CharField) and value:
            yield label, str(value)


def _never_online(document) -> bool:
    """A file that never leaves the CMS (audience 内部, classified other than 公开, or held itself): a
    page that uses it never shows it, so its text is not the page's."""
    from media.audience import secrecy_held

    return getattr(document, "audience", "") == "internal" or secrecy_held(document)


def page_documents(page) -> list:
    """The documents a page attaches (attachments and files inside its StreamFields) that go online
    with it, once each."""
    from wagtail.fields import StreamField

    found = {}
    for _title, document in getattr(page, "search_attachments", lambda: ())():
        found[document.pk] = document
    for field in type(page)._meta.fields:
        if isinstance(field, StreamField):
            for document in _documents_in(getattr(page, field.name, None) or []):
                found[document.pk] = document
    return [d for d in found.values() if not _never_online(d)]


def document_texts(document, extract: bool = True) -> Iterator[tuple[str, str]]:
    """(place, text) of a document: its title and the text search extracts from it, page by page
    (``search.extraction``, cached by file hash). ``extract=False``: only text extracted already."""
    from search.extraction import document_pages
    from search.models import ExtractedText

    name = f"附件《{document.title}》"
    yield name + "标题", document.title
    if extract:
        pages = document_pages(document)
    else:
        cached = ExtractedText.objects.filter(document_id=document.pk, file_hash=getattr(document, "file_hash", "") or "")
        pages = [(p.get("page"), p.get("text", "")) for row in cached for p in row.pages]
    for number, text in pages:
        yield (f"{name}第{number}页" if number else name), text


def scan_page(page, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding in a page (its specific version) and the documents it attaches."""
    vocabulary = vocabulary if vocabulary is not None else Vocabulary.load()
    findings = []
    for place, text in page_texts(page):
        findings += scan_text(text, place, vocabulary)
    for document in page_documents(page):
        for place, text in document_texts(document):
            findings += scan_text(text, place, vocabulary)
    return findings


def scan_file(file, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding in an uploaded file: its title, and for a document its text. A document an editor
    made public goes online by itself, so its text is extracted now; a following one goes online only
    with a page, whose review extracts it, so only text extracted already is read."""
    from wagtail.documents.models import AbstractDocument

    vocabulary = vocabulary if vocabulary is not None else Vocabulary.load()
    if isinstance(file, AbstractDocument):
        texts = document_texts(file, extract=getattr(file, "audience", "") in ("public", "members"))
    else:
        texts = [("标题", file.title), ("说明", getattr(file, "description", "") or "")]
    findings = []
    for place, text in texts:
        findings += scan_text(text, place, vocabulary)
    return findings
