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
from bisect import bisect_left
from collections.abc import Iterable
from operator import itemgetter
from urllib.parse import unquote, urlsplit

from django.db import connections
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone
from wagtail.models import Locale, Page, PageViewRestriction, Site

from .manifest import Manifest
from .render import output_path

DEFAULT_DYNAMIC_PREFIXES = ("/admin/", "/accounts/", "/api/", "/search/")


class SecrecyError(Exception):
    """The build contains something that must never be public. Nothing was uploaded."""


#: (pk, path, live, expired, depth, live_revision_id, locale_id, translation_key) of a page
_ROW = "pk", "path", "live", "expire_at", "depth", "live_revision_id", "locale_id", "translation_key"


def _page_rows() -> list[tuple]:
    """Every page's row, in tree order (a page's descendants follow it): one query for all the checks.
    ``expire_at`` is read as whether the page has expired, ``live`` as a truth value."""
    now = timezone.now()
    expired = Case(When(expire_at__lte=now, then=Value(True)), default=Value(False), output_field=BooleanField())
    fields = [f for f in _ROW if f != "expire_at"]
    rows = _raw_rows(Page.objects.annotate(expired_now=expired).values_list(*fields, "expired_now").order_by("path"))
    rows = [(pk, path, live, expired, *rest) for pk, path, live, *rest, expired in rows]
    # the scans rely on code-point order whatever the database's collation (already sorted: linear time)
    rows.sort(key=itemgetter(1))
    return rows


def _raw_rows(queryset) -> list[tuple]:
    """The rows of a ``values_list`` query (model fields first, then annotations, in that order), as the
    database driver returns them: without Django's per-value converters, which cost more than the query
    on a site of 100,000 pages (a UUID object per translation key, a datetime per expiry date)."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def independently_public_ids(rows: list[tuple] | None = None) -> set[int]:
    """Live, unexpired pages with no view restriction and no unpublished or expired page above them.

    One pass over the pages in tree order: a page that hides its subtree (restricted, or below the site
    root and unpublished, expired or held by the secrecy review) is the current hidden prefix until the
    scan leaves its subtree (in ``path`` order, a page's descendants come right after it)."""
    rows = _page_rows() if rows is None else rows
    restricted = set(PageViewRestriction.objects.values_list("page__path", flat=True))
    held = secrecy_held_ids(rows)
    public = set()
    hiding = None  # the path of the hidden page whose subtree the scan is in
    for pk, path, live, expired, depth, *_rest in rows:
        if hiding is not None and path.startswith(hiding):
            continue
        hiding = None
        down = not live or expired
        if path in restricted or (depth > 1 and (down or pk in held)):
            hiding = path
            continue
        if not down:
            public.add(pk)
    return public - _copies_of_hidden_sources(public, rows)


def secrecy_held_ids(rows: list[tuple] | None = None) -> set[int]:
    """Live pages the secrecy review has not cleared, recomputed from the review records (the newest
    record of each page's live revision), not from the hold the visibility rule reads. A live page
    with no record of its live state (published before the review existed, or by a path that skipped
    it) is scanned here and now."""
    from cms.secrecy.models import SecrecyReview, held
    from cms.secrecy.review import is_reviewable
    from cms.secrecy.scanner import Vocabulary, scan_page

    if rows is None:
        live = dict(Page.objects.filter(live=True, depth__gt=1).values_list("pk", "live_revision_id"))
    else:
        live = {row[0]: row[5] for row in rows if row[2] and row[4] > 1}
    latest: dict[int, bool] = {}
    # the records of live pages' live revisions (a join, not a list of every live page's id), newest
    # last, and whether each has findings (the hold depends on that alone: no need to decode them)
    records = (
        SecrecyReview.objects.filter(page__live=True, page__depth__gt=1)
        .filter(Q(revision_id=F("page__live_revision_id"))
                | Q(revision__isnull=True, page__live_revision__isnull=True))
        .order_by("pk")
        .annotate(has_findings=ExpressionWrapper(~Q(findings=[]), output_field=BooleanField()))
    )
    for page_id, revision_id, classification, decision, has_findings in _raw_rows(
        records.values_list("page_id", "revision_id", "classification", "decision", "has_findings")
    ):
        if live.get(page_id, 0) == revision_id:  # (the page's row and the record read a moment apart)
            latest[page_id] = held(classification, [True] if has_findings else [], decision)
    result = {pk for pk, is_held in latest.items() if is_held}
    unknown = [pk for pk in live if pk not in latest]
    if unknown:
        vocabulary = Vocabulary.load()
        for i in range(0, len(unknown), 500):
            for page in Page.objects.filter(pk__in=unknown[i : i + 500]).specific():
                if is_reviewable(page) and held(page.classification, scan_page(page, vocabulary), ""):
                    result.add(page.pk)
    return result


def _copies_of_hidden_sources(public: set[int], rows: list[tuple] | None = None) -> set[int]:
    """Translations (and everything below them) of a source-language page that is not public: a
    translation is never more public than its source."""
    from django.conf import settings

    source = Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values_list("pk", flat=True).first()
    if source is None:
        return set()
    rows = _page_rows() if rows is None else rows
    hidden_keys = {row[7] for row in rows if row[6] == source and row[0] not in public}
    out, hiding = set(), None
    for pk, path, *_mid, locale, key in rows:  # tree order: a hidden copy's subtree follows it
        if hiding is not None and path.startswith(hiding):
            out.add(pk)
            continue
        hiding = None
        if locale != source and key in hidden_keys:
            hiding = path
            out.add(pk)
    return out


def hidden_dirs(public: set[int], rows: list[tuple] | None = None) -> set[str]:
    """The URL folders (object path prefixes, ``zh-hans/news/a/``) of the pages that are not public."""
    rows = _page_rows() if rows is None else rows
    hidden = [row[0] for row in rows if row[4] > 1 and row[0] not in public]
    request = _FakeRequest(Site.get_site_root_paths())
    locales = {loc.pk: loc for loc in Locale.objects.all()}
    dirs = set()
    for i in range(0, len(hidden), 500):
        for page in Page.objects.filter(pk__in=hidden[i : i + 500]).only(
            "pk", "path", "url_path", "depth", "locale_id", "live"
        ):
            page.locale = locales.get(page.locale_id)
            parts = page.get_url_parts(request=request)
            if parts is not None:
                dirs.add(output_path(parts[2])[: -len("index.html")])
    return dirs


def paths_under(paths: list[str], folders: Iterable[str]) -> list[str]:
    """The paths (``paths`` sorted) inside any of these folders (``a/b/``), by binary search: the
    paths of a folder's subtree are contiguous in sorted order."""
    found = []
    for folder in sorted(set(folders)):
        if not folder:  # the site root's folder holds the whole site (its pages are checked by group)
            continue
        i = bisect_left(paths, folder)
        while i < len(paths) and paths[i].startswith(folder):
            found.append(paths[i])
            i += 1
    return found


def check_secrecy(manifest: Manifest) -> None:
    """Refuse ``manifest`` (``SecrecyError``) if it holds any object of a page that is not public now,
    under the URL of such a page, or a file that is not public: every entry, whichever publish put it
    there, against the page table read now."""
    rows = _page_rows()
    public = independently_public_ids(rows)
    problems = []
    bad = set()
    for group in {entry.group for entry in manifest.entries.values()}:
        kind, _sep, ident = group.partition(":")
        if kind in ("page", "feed") and ident.isdigit() and int(ident) not in public:
            bad.add(group)
    if bad:
        problems += [
            f"{entry.path} belongs to non-public page {entry.group.partition(':')[2]}"
            for entry in manifest.entries.values() if entry.group in bad
        ]
    # objects under the URL of a non-public page
    under = paths_under(sorted(manifest.entries), hidden_dirs(public, rows))
    problems += [f"{path} is under the URL of a non-public page" for path in sorted(set(under))]
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
    doc_ids = {
        int(p.split("/")[1]) for p in manifest.entries if p.startswith("documents/") and re.match(r"documents/\d+/", p)
    }
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
