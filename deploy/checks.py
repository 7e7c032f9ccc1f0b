"""Independent checks on a build before anything is uploaded, and a link checker.

The secrecy check does not trust the code that chose what to render (``cms.visibility.public_pages``):
it recomputes which pages are public straight from the page table, the view restrictions and the
secrecy review's records (a page whose live revision is not cleared is not public), and
refuses a manifest that holds any object of a page that is not public or that sits under a
non-public page's URL, or a document or image rendition whose file is not public (the editor made it
public, or it follows its pages and a public page uses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from wagtail.models import Locale, Page, PageViewRestriction, Site

from .manifest import Manifest
from .render import output_path

DEFAULT_DYNAMIC_PREFIXES = ("/admin/", "/accounts/", "/api/", "/search/")


class SecrecyError(Exception):
    """The build contains something that must never be public. Nothing was uploaded."""


def independently_public_ids() -> set[int]:
    """Live, unexpired pages with no view restriction and no unpublished or expired page above them."""
    restricted = [p for p in PageViewRestriction.objects.values_list("page__path", flat=True)]
    now = timezone.now()
    rows = list(Page.objects.values_list("pk", "path", "live", "expire_at", "depth").order_by("path"))
    held = secrecy_held_ids()
    hidden = tuple(restricted) + tuple(
        path for pk, path, live, expire_at, depth in rows
        if depth > 1 and (not live or (expire_at is not None and expire_at <= now) or pk in held)
    )
    public = set()
    for pk, path, live, expire_at, _depth in rows:
        if not live or (expire_at is not None and expire_at <= now):
            continue
        if hidden and path.startswith(hidden):
            continue
        public.add(pk)
    return public - _copies_of_hidden_sources(public)


def secrecy_held_ids() -> set[int]:
    """Live pages the secrecy review has not cleared, recomputed from the review records (the newest
    record of each page's live revision), not from the hold the visibility rule reads. A live page
    with no record of its live state (published before the review existed, or by a path that skipped
    it) is scanned here and now."""
    from cms.secrecy.models import SecrecyReview, held
    from cms.secrecy.review import is_reviewable
    from cms.secrecy.scanner import Vocabulary, scan_page

    live = dict(Page.objects.filter(live=True, depth__gt=1).values_list("pk", "live_revision_id"))
    latest: dict[tuple[int, int | None], bool] = {}
    # the records of live pages (a join, not a list of every live page's id), and whether each has
    # findings (the hold depends on that alone: no need to decode every record's findings)
    records = SecrecyReview.objects.filter(page__live=True, page__depth__gt=1).order_by("pk").annotate(
        has_findings=ExpressionWrapper(~Q(findings=[]), output_field=BooleanField())
    )
    for page_id, revision_id, classification, has_findings, decision in records.values_list(
        "page_id", "revision_id", "classification", "has_findings", "decision"
    ):
        latest[(page_id, revision_id)] = held(classification, [True] if has_findings else [], decision)
    result = {pk for pk, revision_id in live.items() if latest.get((pk, revision_id))}
    unknown = [pk for pk, revision_id in live.items() if (pk, revision_id) not in latest]
    if unknown:
        vocabulary = Vocabulary.load()
        for page in Page.objects.filter(pk__in=unknown).specific():
            if is_reviewable(page) and held(page.classification, scan_page(page, vocabulary), ""):
                result.add(page.pk)
    return result


def _copies_of_hidden_sources(public: set[int]) -> set[int]:
    """Translations (and everything below them) of a source-language page that is not public: a
    translation is never more public than its source."""
    from django.conf import settings

    source = Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values_list("pk", flat=True).first()
    if source is None:
        return set()
    rows = list(Page.objects.values_list("pk", "path", "locale_id", "translation_key"))
    hidden_keys = {key for pk, _path, locale, key in rows if locale == source and pk not in public}
    hidden = tuple(path for _pk, path, locale, key in rows if locale != source and key in hidden_keys)
    return {pk for pk, path, _locale, _key in rows if hidden and path.startswith(hidden)}


def check_secrecy(manifest: Manifest) -> None:
    public = independently_public_ids()
    problems = []
    for entry in manifest.entries.values():
        kind, _sep, ident = entry.group.partition(":")
        if kind in ("page", "feed") and ident.isdigit() and int(ident) not in public:
            problems.append(f"{entry.path} belongs to non-public page {ident}")
    # objects under the URL of a non-public page
    root_paths = Site.get_site_root_paths()
    locales = {loc.pk: loc for loc in Locale.objects.all()}

    request = _FakeRequest(root_paths)
    hidden_dirs = set()
    for page in Page.objects.exclude(pk__in=public).filter(depth__gt=1).only(
        "pk", "path", "url_path", "depth", "locale_id", "live"
    ):
        page.locale = locales.get(page.locale_id)
        parts = page.get_url_parts(request=request)
        if parts is not None:
            hidden_dirs.add(output_path(parts[2])[: -len("index.html")])
    for path in manifest.entries:
        parts = path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) + "/" in hidden_dirs:
                problems.append(f"{path} is under the URL of a non-public page")
                break
    problems += _non_public_files(manifest, public)
    if problems:
        raise SecrecyError("; ".join(problems[:20]) + (f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""))


def _independently_public_files(model, ids: set[int], public: set[int]) -> set[int]:
    """Of these files, those an editor made public or that a public page uses (per the ReferenceIndex),
    worked out from the rows, not through ``media.audience``."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ReferenceIndex

    # a file the secrecy review holds, or classified other than 公开, is never public
    rows = dict(
        model.objects.filter(pk__in=ids, secrecy_hold=False, classification="public").values_list("pk", "audience")
    )
    ok = {pk for pk, audience in rows.items() if audience == "public"}
    following = [str(pk) for pk, audience in rows.items() if audience == "follow"]
    uses = ReferenceIndex.objects.filter(
        base_content_type=ContentType.objects.get_for_model(Page),
        to_content_type=ContentType.objects.get_for_model(model),
        to_object_id__in=following,
    ).values_list("to_object_id", "object_id")
    ok |= {int(file_id) for file_id, page_id in uses if page_id.isdigit() and int(page_id) in public}
    from wagtail.documents import get_document_model

    if model is get_document_model():
        # read again from the review records: a document whose current file has findings not cleared
        from cms.secrecy.review import held_document_ids

        ok -= held_document_ids(ok)
    return ok


def _non_public_files(manifest: Manifest, public: set[int]) -> list[str]:
    """Documents and image renditions in the manifest whose file is not public."""
    from django.conf import settings
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    problems = []
    doc_ids = {int(p.split("/")[1]) for p in manifest.entries if re.match(r"documents/\d+/", p)}
    if doc_ids:
        ok = _independently_public_files(get_document_model(), doc_ids, public)
        problems += [f"document {d} is not public" for d in sorted(doc_ids - ok)]
    media = (settings.MEDIA_URL or "/media/").strip("/") + "/"
    names = {p[len(media):]: p for p in manifest.entries if p.startswith(media)}
    if names:
        image_model = get_image_model()
        renditions = image_model.get_rendition_model().objects.filter(file__in=list(names))
        image_of = dict(renditions.values_list("file", "image_id"))
        ok = _independently_public_files(image_model, set(image_of.values()), public)
        problems += [
            f"{path} is not a rendition of a public image"
            for name, path in sorted(names.items())
            if image_of.get(name) not in ok
        ]
    return problems


class _FakeRequest:
    """Carries cached site root paths so URL lookups cost no query (Wagtail reads this attribute)."""

    def __init__(self, root_paths) -> None:
        self._wagtail_cached_site_root_paths = root_paths
        self._wagtail_site = None

    def get_host(self) -> str:
        return "localhost"


def _is_dynamic(target: str, dynamic: tuple[str, ...]) -> bool:
    """Served by the CMS behind the same CDN, with or without a language prefix."""
    without_language = "/" + target.lstrip("/").partition("/")[2]
    return target.startswith(dynamic) or without_language.startswith(dynamic)


_LINK_RE = re.compile(rb"""\b(?:href|src)=["']([^"'<>]+)["']""")


def broken_links(
    objects: Iterable[tuple[str, bytes]],
    existing: set[str],
    *,
    base_url: str = "",
    dynamic_prefixes: Iterable[str] = DEFAULT_DYNAMIC_PREFIXES,
) -> list[tuple[str, str]]:
    """Internal links in HTML objects that point at no published object: ``[(page path, link)]``."""
    base_host = urlsplit(base_url).netloc
    dynamic = tuple(dynamic_prefixes)
    broken = []
    known_ok: set[bytes] = set()  # absolute links already found to exist (menus repeat on every page)
    for path, body in objects:
        if not path.endswith(".html"):
            continue
        for raw in _LINK_RE.findall(body):
            if raw in known_ok:
                continue
            absolute = raw.startswith((b"/", b"http://", b"https://"))
            link = raw.decode("utf-8", "replace")
            split = urlsplit(link)
            if split.scheme and split.scheme not in ("http", "https"):
                continue
            if split.netloc and split.netloc != base_host:
                continue
            target = unquote(split.path)
            if not target:
                continue
            if not target.startswith("/"):
                target = "/" + "/".join(path.split("/")[:-1] + [target])
            if _is_dynamic(target, dynamic):
                continue
            key = output_path(target)
            if key not in existing:
                broken.append((path, link))
            elif absolute:
                known_ok.add(raw)
    return broken
