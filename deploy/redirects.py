"""Editors' redirects (``wagtail.contrib.redirects``) on the static site.

The CMS answers an old path with a 301 from Wagtail's ``RedirectMiddleware``; the static site has no
middleware, so each redirect the public may follow is published as a small page at its old path (and
at the old path with a trailing slash) that sends the browser on (``render.redirect_stub``: a meta
refresh and a canonical link, ``noindex``). Redirects Wagtail creates itself when a page moves or its
slug changes are among them, so old links to a moved page keep working.

Only redirects that lead somewhere public are published: to a page the public may read now, or to an
external ``http``/``https`` address. Left out, and said why (``skipped``): a redirect to a members-only,
internal, draft or expired page (publishing it would name a restricted page's address), from an old
address below such a page (the publisher refuses anything there), to a path of
the site that is not a page (the static site cannot check it), one with a query string or parameters
(a static host can't tell ``/a?x=1`` from ``/a``), one of another site, and one whose old path is a
published page's own address (the page wins, as it does on the CMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db.models import F, Q
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page, Site

from cms import visibility

#: the manifest group of the redirect pages (rebuilt whole when any redirect changes)
GROUP = "redirects"


@dataclass(frozen=True)
class StaticRedirect:
    old_path: str  # normalised by Wagtail: leading slash, no trailing slash
    location: str  # a public page's path on the static site, or an external http(s) address
    permanent: bool

    @property
    def urls(self) -> tuple[str, str]:
        """The two addresses a reader may have: ``/old/path`` and ``/old/path/``."""
        return self.old_path, self.old_path.rstrip("/") + "/"


@dataclass
class RedirectPlan:
    redirects: list[StaticRedirect]
    skipped: list[tuple[str, str]]  # (old path, why)


def _external(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _pages_at(site: Site | None, paths: set[str]) -> dict[str, tuple[int, bool]]:
    """{address: (page id, live)} for those of ``paths`` (``/zh-hans/news/x``) that are a page's address
    on ``site``. Two queries."""
    if site is None or not paths:
        return {}
    homes = {page.locale.language_code: page.url_path for page in
             Page.objects.filter(translation_key=site.root_page.translation_key).select_related("locale")}
    wanted: dict[str, str] = {}
    for path in paths:
        language, _, rest = path.lstrip("/").partition("/")
        if language in homes:
            wanted[homes[language] + (rest.strip("/") + "/" if rest.strip("/") else "")] = path
    rows = Page.objects.filter(url_path__in=list(wanted)).values_list("url_path", "pk", "live")
    return {wanted[url_path]: (pk, live) for url_path, pk, live in rows}


def _prefixes(path: str) -> list[str]:
    """``/a/b/c`` -> ``/a``, ``/a/b``: the addresses a path lies below."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(1, len(parts))]


def static_redirects(site: Site | None = None, rule: visibility.Rule | None = None, page_paths=frozenset()) -> RedirectPlan:
    """The redirects of ``site`` (default: the default site) the static site carries, and those it
    leaves out with the reason. ``page_paths``: more addresses a redirect never replaces (besides every
    live page's own)."""
    site = site or Site.objects.filter(is_default_site=True).select_related("root_page").first()
    rows = Redirect.objects.filter(Q(site__isnull=True) | Q(site=site)).order_by(
        "old_path", F("site").asc(nulls_last=True), "pk"
    )
    rows = list(rows.select_related("redirect_page"))
    if rule is None:
        from .feeds import current_scope

        scope = current_scope()  # a publish's rule, read once for it
        rule = scope.rule if scope is not None else visibility.Rule()
    wanted = {r.redirect_page_id for r in rows if r.redirect_page_id}
    public = set(Page.objects.filter(rule.public(), pk__in=wanted).values_list("pk", flat=True)) if wanted else set()
    olds = {r.old_path for r in rows}
    pages = _pages_at(site, olds | {prefix for old in olds for prefix in _prefixes(old)})
    # a live page's own address: the CMS serves the page (or its login) there, never the redirect
    taken = {p.rstrip("/") or "/" for p in page_paths} | {path for path in olds if pages.get(path, (0, False))[1]}
    # below a page the public may not read: the publisher's secrecy check refuses anything there
    ids = {pk for pk, _live in pages.values()}
    readable = set(Page.objects.filter(rule.public(), pk__in=ids).values_list("pk", flat=True)) if ids else set()
    closed = {path for path, (pk, _live) in pages.items() if pk not in readable}
    plan = RedirectPlan([], [])
    seen: set[str] = set()
    for row in rows:
        old = row.old_path
        if old in seen:
            continue  # one per old path: the site's own before the all-sites one, as the middleware does
        if "?" in old or ";" in old:
            plan.skipped.append((old, "含查询参数，静态站点无法区分"))
            continue
        if old in taken:
            plan.skipped.append((old, "旧地址上已有页面"))
            continue
        if any(prefix in closed for prefix in _prefixes(old)):
            plan.skipped.append((old, "旧地址位于非公开页面之下"))
            continue
        if row.redirect_page_id:
            if row.redirect_page_id not in public:
                plan.skipped.append((old, "目标页面不公开"))
                continue
            url = row.redirect_page.specific_deferred.get_url(request=None)
            if not url:
                plan.skipped.append((old, "目标页面不在站点内"))
                continue
            location = url.rstrip("/") + "/" + row.redirect_page_route_path.strip("/") if row.redirect_page_route_path else url
            if row.redirect_page_route_path and not location.endswith("/"):
                location += "/"
        elif row.redirect_link and _external(row.redirect_link):
            location = row.redirect_link
        else:
            plan.skipped.append((old, "目标不是公开页面或外部网址"))
            continue
        seen.add(old)
        plan.redirects.append(StaticRedirect(old_path=old, location=location, permanent=row.is_permanent))
    return plan
