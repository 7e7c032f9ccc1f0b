"""HTTP hardening: the Content-Security-Policy of the CMS and of the static copy, and production's HTTPS,
cookie, secret-key and shared-cache rules.

The browser proof (the admin's widgets really run under the policy) is tests/browser/test_csp_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from cms import visibility

ROOT = Path(__file__).resolve().parents[2]
# a <script> that runs: no src, and a JavaScript type (none, or a JavaScript MIME type / module)
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"(?!text/javascript|module)[^\"]*\")([^>]*)>", re.I
)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict(policy: str, where: str) -> dict[str, list[str]]:
    d = directives(policy)
    script = d.get("script-src", d.get("default-src"))
    assert script is not None, f"{where}: no script-src"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, f"{where}: {script}"
    assert "*" not in script and not any(s in ("http:", "https:", "data:") for s in script), (
        f"{where}: {script}"
    )
    assert d.get("object-src") == ["'none'"], where
    assert d.get("base-uri") == ["'self'"], where
    return d


def assert_only_nonced_scripts(html: str, nonce: str | None, where: str) -> None:
    for match in INLINE_SCRIPT.finditer(html):
        attrs = match.group(1)
        assert nonce and f'nonce="{nonce}"' in attrs, (
            f"{where}: inline script without the response's nonce: {match.group(0)}"
        )
    handler = EVENT_HANDLER.search(html)
    assert handler is None, f"{where}: inline event handler {handler.group(0)[:120]}"


def nonce_of(policy: str) -> str | None:
    found = re.search(r"'nonce-([^']+)'", policy)
    return found.group(1) if found else None


@pytest.fixture
def people(db):
    from tests.factories import build_site

    tree = build_site(n_articles=1)
    admin = get_user_model().objects.create_superuser("headers-admin", "", "pw")
    member = get_user_model().objects.create_user("headers-member", "", "pw")
    member.groups.add(visibility.members_group())
    return tree, admin, member


def fetch(client: Client, url: str, where: str, status=200):
    response = client.get(url)
    assert response.status_code == status, f"{where} {url}: {response.status_code}"
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{where} {url}: no Content-Security-Policy header"
    return response, policy


def test_cms_responses_forbid_inline_script_and_nonce_the_few_they_need(people):
    tree, admin, member = people
    anonymous, as_member, as_admin = Client(), Client(), Client()
    as_member.force_login(member)
    as_admin.force_login(admin)
    material = tree.materials[0]
    pages = {
        anonymous: [
            "/accounts/login/",
            "/admin/login/",
            "/api/v2/pages/",
            "/api/v2/search/?q=党建",
            tree.home.url,
            tree.news.url,
            tree.articles[0].url,
            tree.library.url,
            f"{tree.library.url}search/",
            material.url,
            tree.exhibition.url,
            tree.red.url,
            tree.red_sites[0].url,
        ],
        as_member: [tree.members_article.url, tree.members_material.url, "/zh-hans/study/search/?q=党建"],
        as_admin: [
            "/admin/",
            f"/admin/pages/{tree.articles[0].pk}/edit/",
            f"/admin/pages/{material.pk}/edit/",
            f"/admin/pages/{tree.home.pk}/",
            "/admin/images/",
            "/admin/documents/",
            f"/admin/pages/{tree.articles[0].pk}/move/",
        ],
    }
    checked = 0
    for client, urls in pages.items():
        for url in urls:
            response, policy = fetch(client, url, "CMS")
            d = assert_strict(policy, url)
            assert d["frame-ancestors"] == ["'self'"], url
            if "text/html" not in response["Content-Type"]:
                continue
            html = response.content.decode()
            # the CMS's pages are covered by the header: no second policy in a meta tag
            assert META_CSP.search(html) is None, url
            assert_only_nonced_scripts(html, nonce_of(policy), url)
            checked += 1
    assert checked >= 20


def test_admin_widgets_render_markers_for_csp_init_not_scripts(people):
    """The chooser, date and inline-panel widgets of the edit forms start from markers csp-init.js may call."""
    tree, admin, _member = people
    client = Client()
    client.force_login(admin)
    js = (ROOT / "site_theme/static/site_theme/admin/csp-init.js").read_text()
    allowed = set(re.findall(r"^\s+(\w+): \"(?:new|call)\",$", js, re.M))
    names = []
    for page in (tree.articles[0], tree.materials[0]):
        html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
        assert "site_theme/admin/csp-init.js" in html
        names += re.findall(r'<template data-shuyuan-init="(\w+)"', html)
    # the article's date and cover image, the scheduling dialog, the material's snippet chooser and
    # its attachments panel (whose empty form holds a document chooser)
    for expected in (
        "initDateChooser",
        "initDateTimeChooser",
        "ImageChooser",
        "SnippetChooser",
        "InlinePanel",
    ):
        assert expected in names
    assert set(names) <= allowed, set(names) - allowed


def test_wagtail_choosers_outside_our_forms_render_no_script(db):
    """Choosers Wagtail builds itself (page, workflow task) and any chooser a Wagtail upgrade adds."""
    from wagtail.admin.widgets import AdminPageChooser
    from wagtail.admin.widgets.chooser import BaseChooser
    from wagtail.admin.widgets.workflows import AdminTaskChooser

    for widget in (AdminPageChooser(), AdminTaskChooser()):
        html = widget.render("field", None, {"id": "id_field"})
        assert "<script" not in html, type(widget).__name__
        assert 'data-shuyuan-init="' in html and 'data-shuyuan-id="id_field"' in html
    assert BaseChooser.render.__module__ == "cms.admin_csp"


@override_settings(SHUYUAN_PUBLIC_API_URL="https://api.example.org")
def test_published_pages_carry_their_own_policy(people, tmp_path):
    from deploy.service import publish
    from deploy.targets import get_target

    tree, _admin, _member = people
    publish(full=True, target=get_target(tmp_path / "site"))
    pages = sorted((tmp_path / "site").rglob("*.html"))
    search_page = tmp_path / "site" / tree.library.url.strip("/") / "search" / "index.html"
    assert search_page in pages and len(pages) > 10
    for path in pages:
        html = path.read_text()
        if 'http-equiv="refresh"' in html:
            continue  # a redirect stub: no content, no script
        meta = META_CSP.search(html)
        assert meta is not None, f"{path} has no CSP meta tag"
        assert html.index("<meta charset") < meta.start() < html.index("<link"), path  # before any resource
        d = assert_strict(meta.group(1), str(path))
        assert d["script-src"] == ["'self'"] and d["style-src"] == ["'self'"], path
        assert_only_nonced_scripts(html, None, str(path))  # no inline script at all
        expected_connect = (
            ["'self'", "https://api.example.org/api/v2/search/"] if path == search_page else ["'self'"]
        )
        assert d["connect-src"] == expected_connect, path
    assert "frame-ancestors" not in directives(META_CSP.search(search_page.read_text()).group(1))


def test_shared_cache_checks(db, monkeypatch):
    from django.core.management import call_command

    from cms.http_checks import check_cache_table, check_shared_cache

    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setenv("GRANIAN_WORKERS", "2")
    with override_settings(CACHES=locmem):
        [error] = check_shared_cache()
        assert error.id == "shuyuan.E100" and "GRANIAN_WORKERS" in error.msg
    monkeypatch.setenv("GRANIAN_WORKERS", "1")
    with override_settings(CACHES=locmem):
        assert check_shared_cache() == []
    table = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "headers_test_cache",
        }
    }
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with override_settings(CACHES=table):
        assert check_shared_cache() == []
        [warning] = check_cache_table(databases=["default"])
        assert warning.id == "shuyuan.W100" and "createcachetable" in warning.hint
        call_command("createcachetable", verbosity=0)
        assert check_cache_table(databases=["default"]) == []


# -- production settings, loaded in a fresh interpreter as the server would -----------------------------

STRONG_KEY = "k7Qz-" + "x9Lm2Vb8Rt4Wp6Ns3Hd5Jf1Gc0Ya" * 2
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "cms.settings.production",
    "DJANGO_ALLOWED_HOSTS": "cms.example.org",
    "DATABASE_URL": "sqlite:////tmp/shuyuan-headers-test.sqlite3",
    "SHUYUAN_ADMIN_BASE_URL": "https://cms.example.org",
    "SHUYUAN_API_BASE_URL": "https://cms.example.org",
    "PUBLISH_BASE_URL": "https://www.example.org",
    "SHUYUAN_SEMANTIC_RERANK": "0",
}


def run_production(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SHUYUAN_", "REDIS_", "WEB_CONC", "GRANIAN_"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            **PRODUCTION_ENV,
            "SHUYUAN_VAR_DIR": str(tmp_path),
            "PYTHONPATH": f"{tmp_path}:{ROOT}",
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("key", ["x", "django-insecure-" + STRONG_KEY, "ab" * 40])
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    result = run_production("import cms.settings.production", tmp_path, DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr, result.stderr[
        -500:
    ]


def test_production_refuses_a_per_process_cache_with_two_workers(tmp_path):
    (tmp_path / "locmem_production.py").write_text(
        "from cms.settings.production import *  # noqa\n"
        "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}\n"
    )
    start = "import django; django.setup(); print('started')"
    refused = run_production(
        start,
        tmp_path,
        DJANGO_SECRET_KEY=STRONG_KEY,
        GRANIAN_WORKERS="2",
        DJANGO_SETTINGS_MODULE="locmem_production",
    )
    assert refused.returncode != 0 and "started" not in refused.stdout
    assert "ImproperlyConfigured" in refused.stderr and "GRANIAN_WORKERS" in refused.stderr, refused.stderr[
        -800:
    ]
    one = run_production(
        start,
        tmp_path,
        DJANGO_SECRET_KEY=STRONG_KEY,
        GRANIAN_WORKERS="1",
        DJANGO_SETTINGS_MODULE="locmem_production",
    )
    assert one.returncode == 0 and "started" in one.stdout, one.stderr[-800:]


SHOW = """
import json
from django.conf import settings
names = ["SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
         "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
         "SESSION_COOKIE_SAMESITE", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY"]
out = {n: getattr(settings, n, None) for n in names}
out["cache"] = settings.CACHES["default"]["BACKEND"]
out["csp"] = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
print(json.dumps(out, default=repr))
"""


def test_production_is_https_only_with_a_shared_cache(tmp_path):
    result = run_production(
        SHOW, tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, SHUYUAN_PUBLIC_API_URL="https://api.example.org"
    )
    assert result.returncode == 0, result.stderr[-800:]
    s = json.loads(result.stdout)
    assert s["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_SSL_REDIRECT"] is True and s["SECURE_PROXY_SSL_HEADER"] is None
    assert (
        s["SESSION_COOKIE_SECURE"]
        and s["CSRF_COOKIE_SECURE"]
        and s["SESSION_COOKIE_HTTPONLY"]
        and s["CSRF_COOKIE_HTTPONLY"]
    )
    assert s["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert s["X_FRAME_OPTIONS"] == "SAMEORIGIN" and s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["csp"]["connect-src"] == ["'self'", "https://api.example.org"]
    assert "'unsafe-inline'" not in s["csp"]["script-src"]

    behind_proxy = run_production(
        SHOW,
        tmp_path,
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
        DJANGO_SECURE_HSTS_SECONDS="600",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert behind_proxy.returncode == 0, behind_proxy.stderr[-800:]
    s = json.loads(behind_proxy.stdout)
    assert s["SECURE_SSL_REDIRECT"] is False and s["SECURE_HSTS_SECONDS"] == 600
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"


@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True
)
def test_plain_http_is_redirected_and_https_answers_carry_hsts(db):
    plain = Client().get("/api/v2/pages/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in plain  # never sent over plain HTTP
    secure = Client().get("/api/v2/pages/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["X-Content-Type-Options"] == "nosniff"
