"""The Wagtail admin's search (search.admin_backend) on a real PostgreSQL finds Chinese pages by words.

The module starts a throwaway PostgreSQL cluster (``tests.postgres``): initdb in a temp dir, a free port on
127.0.0.1, the unix socket in the same dir, run as the ``postgres`` user when we are root (PostgreSQL refuses
root).  It is stopped and removed at the end.  Django runs against the cluster in subprocesses because
modelsearch picks its index columns from the database vendor when it is imported.  They are ``manage.py
migrate``, then the probe at the bottom of this file (it creates pages, then asks the search backend,
autocomplete and the admin's page search view), then ``manage.py update_index``, then the probe again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.postgres import Cluster, postgres_cluster, run_django

pytestmark = pytest.mark.slow

TARGET = "智慧党建平台建设"
TARGET_BODY = "推进基层组织数字化转型，建设网上党校。"
OTHER = "图书馆开放时间通知"
QUERIES = ["党建", "黨建", "智慧党建", "平台建设", "数字化", "图书馆", "建党", "经济"]
AUTOCOMPLETE_QUERIES = ["党建", "黨建", "智慧党", "图书馆", "经济"]
ADMIN_QUERIES = ["党建", "黨建", "经济"]


@pytest.fixture(scope="module")
def cluster():
    """A throwaway PostgreSQL cluster (``tests.postgres``) for this module."""
    with postgres_cluster() as running:
        yield running


# -- Django against it ----------------------------------------------------------------------------


def _django(cluster: Cluster, *args: str) -> None:
    run_django(cluster, *args)


def _probe(cluster: Cluster, mode: str) -> dict:
    out = cluster.tmp / f"probe-{mode}.json"
    _django(cluster, __file__, mode, str(out))
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports(cluster):
    """What search shows right after the pages are saved, and again after ``manage.py update_index``."""
    _django(cluster, "manage.py", "migrate", "--no-input", "-v0")
    after_save = _probe(cluster, "create")
    _django(cluster, "manage.py", "update_index")
    return {"after_save": after_save, "after_update_index": _probe(cluster, "report")}


PHASES = ["after_save", "after_update_index"]


def test_postgres_uses_the_segmenting_backend_and_stores_words(reports):
    report = reports["after_update_index"]
    assert report["vendor"] == "postgresql"
    assert report["backend"] == "SegmentingPostgresSearchBackend"
    [entry] = report["entries"]
    # the title tsvector holds the words, not one lexeme for the whole run of characters
    for word in ("智慧", "党建", "平台", "建设"):
        assert f"'{word}'" in entry["title"], entry["title"]
    assert f"'{TARGET}'" not in entry["title"]
    assert "'数字化'" in entry["body"], entry["body"]
    assert entry["title_text"] == TARGET  # fuzzy search's plain text stays as written


@pytest.mark.parametrize("phase", PHASES)
def test_search_finds_words_and_traditional_forms(reports, phase):
    found = reports[phase]["search"]
    for q in ("党建", "黨建", "智慧党建", "平台建设", "数字化"):
        assert found[q] == [TARGET], (q, found[q])
    assert found["图书馆"] == [OTHER]
    assert found["建党"] == []  # the same characters, not the same word
    assert found["经济"] == []


@pytest.mark.parametrize("phase", PHASES)
def test_autocomplete_finds_words_and_prefixes(reports, phase):
    found = reports[phase]["autocomplete"]
    for q in ("党建", "黨建", "智慧党"):
        assert found[q] == [TARGET], (q, found[q])
    assert found["图书馆"] == [OTHER]
    assert found["经济"] == []


@pytest.mark.parametrize("phase", PHASES)
def test_admin_page_search_view(reports, phase):
    shown = reports[phase]["admin"]
    for q in ("党建", "黨建"):
        assert shown[q] == {"status": 200, "titles": [TARGET]}, (q, shown[q])
    assert shown["经济"] == {"status": 200, "titles": []}


# -- the probe, run by the tests above as ``python test_admin_search_postgres.py MODE OUT.json`` --------


def _run_probe(mode: str, out: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from modelsearch.backends.database.postgres.postgres import IndexEntry
    from wagtail.models import Page
    from wagtail.search.backends import get_search_backend

    from cms.models import ArticlePage, ColumnPage, HomePage

    if mode == "create":
        home = Page.get_first_root_node().add_child(instance=HomePage(title="书苑测试首页", slug="pg-home"))
        news = home.add_child(instance=ColumnPage(title="新闻动态", slug="news"))
        news.add_child(instance=ArticlePage(title=TARGET, slug="smart", body=[("paragraph", f"<p>{TARGET_BODY}</p>")]))
        news.add_child(instance=ArticlePage(title=OTHER, slug="library-hours", summary="周末照常开放。"))
        get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")

    target = Page.objects.get(slug="smart")
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    admin = {}
    for q in ADMIN_QUERIES:
        response = client.get("/admin/pages/search/", {"q": q})
        html = response.content.decode()
        admin[q] = {"status": response.status_code, "titles": [t for t in (TARGET, OTHER) if t in html]}
    report = {
        "vendor": connection.vendor,
        "backend": type(get_search_backend()).__name__,
        "entries": list(
            IndexEntry.objects.filter(content_type_id=target.content_type_id, object_id=str(target.pk))
            .values("title", "body", "title_text")
        ),
        "search": {q: sorted(p.title for p in Page.objects.search(q)) for q in QUERIES},
        "autocomplete": {q: sorted(p.title for p in Page.objects.autocomplete(q)) for q in AUTOCOMPLETE_QUERIES},
        "admin": admin,
    }
    Path(out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    _run_probe(*sys.argv[1:])
