"""Production never emits an absolute URL built on a guess: the CMS's base URLs (admin, API, the static
site) must be configured, and a missing or malformed one stops start-up naming the variable.

Loaded in a fresh interpreter, as the server would (``run_production`` of the HTTP-headers tests).
"""

from __future__ import annotations

import json

import pytest

from tests.security.test_http_headers import STRONG_KEY, run_production

BASES = {
    "SHUYUAN_ADMIN_BASE_URL": "https://cms.example.org",
    "SHUYUAN_API_BASE_URL": "https://api.example.org/",
    "PUBLISH_BASE_URL": "https://www.example.org",
}


def production(tmp_path, code: str, **env):
    return run_production(
        code, tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **{**BASES, **env}
    )


@pytest.mark.parametrize(
    "name, setting",
    [
        ("SHUYUAN_ADMIN_BASE_URL", "WAGTAILADMIN_BASE_URL"),
        ("SHUYUAN_API_BASE_URL", "WAGTAILAPI_BASE_URL"),
        ("PUBLISH_BASE_URL", 'SHUYUAN_PUBLISH["BASE_URL"]'),
    ],
)
def test_a_missing_base_url_stops_start_up_naming_it(tmp_path, name, setting):
    result = production(tmp_path, "import cms.settings.production", **{name: ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Environment variable {name} is required in production" in result.stderr and setting in result.stderr


@pytest.mark.parametrize(
    "name, value",
    [
        ("SHUYUAN_ADMIN_BASE_URL", "cms.example.org"),
        ("SHUYUAN_API_BASE_URL", "ftp://api.example.org"),
        ("PUBLISH_BASE_URL", "https://www.example.org/?x=1"),
        ("SHUYUAN_PREVIEW_CLIENT_URL", "/api/v2/preview/"),
    ],
)
def test_a_base_url_that_is_not_absolute_stops_start_up(tmp_path, name, value):
    result = production(tmp_path, "import cms.settings.production", **{name: value})
    assert result.returncode != 0
    assert f"Environment variable {name}" in result.stderr and "must be an absolute http(s) URL" in result.stderr


def test_the_absolute_urls_the_cms_emits_start_with_the_configured_bases(tmp_path):
    code = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.test import RequestFactory\n"
        "from wagtail.api.utils import get_full_url\n"
        "from deploy.purge import absolute_urls\n"
        "from deploy.feeds import absolute\n"
        "request = RequestFactory().get('/api/v2/pages/', HTTP_HOST='cms.example.org')\n"
        "print(json.dumps({\n"
        "  'admin': settings.WAGTAILADMIN_BASE_URL,\n"
        "  'detail_url': get_full_url(request, '/api/v2/pages/7/'),\n"
        "  'preview': settings.WAGTAIL_HEADLESS_PREVIEW['CLIENT_URLS']['default'],\n"
        "  'purge': absolute_urls(['/zh-hans/news/']),\n"
        "  'feed': absolute('/zh-hans/news/a/'),\n"
        "}))\n"
    )
    result = production(tmp_path, code, DJANGO_ALLOWED_HOSTS="cms.example.org,internal")
    assert result.returncode == 0, result.stderr[-3000:]
    urls = json.loads(result.stdout.splitlines()[-1])
    assert urls == {
        "admin": "https://cms.example.org",
        "detail_url": "https://api.example.org/api/v2/pages/7/",
        "preview": "https://api.example.org/api/v2/preview/",
        "purge": ["https://www.example.org/zh-hans/news/"],
        "feed": "https://www.example.org/zh-hans/news/a/",
    }
    assert "127.0.0.1" not in result.stdout
