"""Operations (issue #13): one administrator whatever ``./dev up`` is re-run with, rate limits counted in a
store every worker process shares, absolute URLs from the configured base URLs, and a demo load that
leaves no failed background job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from wagtail.models import Site

from tests.factories import build_site

ROOT = Path(__file__).resolve().parents[2]


# --- ensure_admin: the first administrator only ---------------------------------------------------------


@pytest.mark.django_db
def test_rerunning_ensure_admin_without_the_variables_adds_no_second_administrator(monkeypatch):
    User = get_user_model()
    User.objects.create_superuser("chief", "", "Dangjian@2026x")  # made by an earlier run with SHUYUAN_ADMIN_USER
    monkeypatch.delenv("SHUYUAN_ADMIN_USER", raising=False)
    monkeypatch.delenv("SHUYUAN_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    call_command("ensure_admin", stdout=out)
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["chief"]
    assert not User.objects.filter(username="admin").exists()
    assert "管理员账号已存在：chief" in out.getvalue()


@pytest.mark.django_db
def test_ensure_admin_with_another_name_set_still_adds_none(monkeypatch):
    User = get_user_model()
    User.objects.create_superuser("admin", "", "Dangjian@2026x")
    monkeypatch.setenv("SHUYUAN_ADMIN_USER", "someone-else")
    monkeypatch.setenv("SHUYUAN_ADMIN_PASSWORD", "Shuyuan#Strong-2026")
    call_command("ensure_admin", stdout=StringIO())
    assert User.objects.filter(is_superuser=True).count() == 1
    assert not User.objects.filter(username="someone-else").exists()


@pytest.mark.django_db
def test_ensure_admin_creates_the_first_one(monkeypatch):
    monkeypatch.setenv("SHUYUAN_ADMIN_USER", "chief")
    monkeypatch.setenv("SHUYUAN_ADMIN_PASSWORD", "Shuyuan#Strong-2026")
    call_command("ensure_admin", stdout=StringIO())
    chief = get_user_model().objects.get(username="chief")
    assert chief.is_superuser and chief.check_password("Shuyuan#Strong-2026")


# --- rate limits in a store shared by every worker process ---------------------------------------------

# One worker process: counts three searches from one address against a limit of 3 a minute, in the cache
# its settings name, and prints what each was told (null = allowed, else seconds to wait).
_WORKER = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.core.management import call_command
    from django.test import RequestFactory
    from cms.api.throttling import SearchRateThrottle, seconds_to_wait
    if sys.argv[1] == "first":
        call_command("createcachetable", verbosity=0)
    answers = []
    for _ in range(int(sys.argv[2])):
        request = RequestFactory().get("/api/v2/search/", {"q": "党建"}, REMOTE_ADDR="203.0.113.9")
        request.user = AnonymousUser()
        answers.append(seconds_to_wait(SearchRateThrottle, request))
    print(json.dumps(answers))
    """
)


def _two_workers(tmp_path: Path, caches: str) -> tuple[list, list]:
    (tmp_path / "worker_settings.py").write_text(
        "from cms.settings.test import *  # noqa\n"
        f"{caches}\n"
        f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {str(tmp_path / 'db.sqlite3')!r}}}}}\n"
        "SHUYUAN_SEARCH_RATE_LIMIT = (3, 60)\n",
        encoding="utf-8",
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "SHUYUAN_TEST_DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "worker_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }

    def run(which: str, n: int) -> list:
        proc = subprocess.run([sys.executable, "-c", _WORKER, which, str(n)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run("first", 3), run("second", 1)


def test_a_per_process_cache_lets_each_worker_count_alone(tmp_path):
    # what the settings must not default to: the second worker knows nothing of the first one's three
    first, second = _two_workers(
        tmp_path, "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}"
    )
    assert first == [None, None, None] and second == [None]


def test_the_default_cache_is_shared_by_worker_processes(tmp_path):
    # the CACHES of cms.settings.base, which dev.py keeps (production.py: Redis or the same table)
    first, second = _two_workers(tmp_path, "from cms.settings.base import CACHES  # noqa")
    assert first == [None, None, None]
    assert second[0] is not None and second[0] >= 1  # the fourth search, in another process, must wait


# --- absolute URLs from the configured base URLs ---------------------------------------------------------


def test_dev_settings_take_their_base_urls_from_the_ports(tmp_path):
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.WAGTAILADMIN_BASE_URL, s.WAGTAILAPI_BASE_URL, "
        "s.WAGTAIL_HEADLESS_PREVIEW['CLIENT_URLS']['default'], s.SHUYUAN_PUBLIC_API_URL, s.CORS_ALLOWED_ORIGINS, "
        "s.CACHES['default']['BACKEND'], s.SHUYUAN_PUBLISH.get('BASE_URL')]))"
    )
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("SHUYUAN_ADMIN_BASE", "SHUYUAN_API_BASE", "SHUYUAN_PREVIEW", "SHUYUAN_PUBLIC_API",
                             "SHUYUAN_API_CORS", "PUBLISH_BASE_URL"))
    }
    env.update(DJANGO_SETTINGS_MODULE="cms.settings.dev", SHUYUAN_CMS_PORT="8123", SHUYUAN_SITE_PORT="8124",
               SHUYUAN_VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    admin, api, preview, public_api, cors, cache, static_site = json.loads(proc.stdout)
    assert admin == api == public_api == "http://127.0.0.1:8123"
    assert preview == "http://127.0.0.1:8123/api/v2/preview/"
    assert "http://127.0.0.1:8124" in cors
    assert cache == "django.core.cache.backends.db.DatabaseCache"
    assert static_site == "http://127.0.0.1:8124"  # feeds, sitemaps and html_url follow the static site's port


@pytest.mark.django_db
def test_api_detail_and_html_urls_start_with_the_configured_base_urls(client):
    from cms.demo import site_address

    tree = build_site(n_articles=1)
    article = tree.articles[0]
    base, public = "http://cms.example.org:8123", "https://www.example.org"
    with override_settings(WAGTAILADMIN_BASE_URL=base, WAGTAILAPI_BASE_URL=base, SHUYUAN_PUBLISH={"BASE_URL": public},
                           SHUYUAN_API={"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}):
        site = Site.objects.get(is_default_site=True)
        site.hostname, site.port = site_address()  # as load_demo sets the demo's site
        site.save()
        response = client.get(f"/api/v2/pages/{article.pk}/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200, response.content[:500]
    meta = response.json()["meta"]
    assert meta["detail_url"] == f"{base}/api/v2/pages/{article.pk}/"
    # a public page is read on the static site, whatever host the API was asked on or the Site record says
    assert meta["html_url"] == f"{public}{article.url}", meta["html_url"]


def test_a_base_url_that_is_not_absolute_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    from cms.demo import site_address

    with override_settings(WAGTAILADMIN_BASE_URL="127.0.0.1:8000"), pytest.raises(ImproperlyConfigured):
        site_address()


# --- the demo load leaves no failed job ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_demo_load_leaves_no_failed_background_job(settings):
    """As ``./dev up`` runs it: the jobs load_demo queues go to the database and the worker runs them after.
    Translating a material with attachments used to queue reference-index jobs for attachment rows that
    wagtail-localize replaced before the worker ran them (StudyMaterialAttachment.DoesNotExist)."""
    from django_tasks_db.models import DBTaskResult

    from cms.models import StudyMaterialAttachment

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}  # the deploy tests' business
    call_command("ensure_admin", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    # translated materials with attachments exist, and jobs are waiting for the worker
    assert StudyMaterialAttachment.objects.exclude(page__locale__language_code="zh-hans").exists()
    assert DBTaskResult.objects.filter(status="READY").exists()
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", batch=True, verbosity=0)
    finally:  # the worker leaves its own SIGINT/SIGTERM handlers installed
        for sig, handler in kept.items():
            signal.signal(sig, handler)
    failed = [
        (r.task_path, r.args_kwargs, r.exception_class_path)
        for r in DBTaskResult.objects.exclude(status="SUCCESSFUL")
    ]
    assert failed == []
