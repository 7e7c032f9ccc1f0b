"""A full publish rendered by forked worker processes (``deploy.parallel``) on a real PostgreSQL.

The other publishing tests run on SQLite inside a transaction, where ``worker_count`` refuses to fork (a child
could not see the test's rows). This module starts a throwaway PostgreSQL cluster (``tests.postgres``),
migrates it, then runs the probe at the bottom of this file in a Django process against it: it builds the
test site (``tests.factories.build_site`` plus more articles, a draft, an unpublished page and a
password-protected one), publishes it in full into one folder with two render workers and small chunks (so
most pages are rendered in the forked processes), then into another folder with workers off, and reports
which process rendered which page and what is public. The tests check both folders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.postgres import postgres_cluster, run_django

pytestmark = pytest.mark.slow

WORKERS = 2
CHUNK = 6  # pages per chunk (deploy.parallel.CHUNK is 250): ~60 pages make ten chunks
EXTRA_ARTICLES = 20  # per column, on top of build_site's
HIDDEN_TITLES = {"draft": "尚未发布的草稿", "unpublished": "已撤回的旧闻", "password": "口令保护的页面"}


@pytest.fixture(scope="module")
def published():
    """The probe's report and the two published folders: ``parallel`` (workers) and ``serial``."""
    with postgres_cluster() as cluster:
        run_django(cluster, "manage.py", "migrate", "--no-input", "-v0")
        out = cluster.tmp / "published"
        run_django(cluster, __file__, str(out))
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        yield report, {name: _folder(out / name) for name in ("parallel", "serial")}


def _folder(root: Path) -> dict:
    from deploy.manifest import MANIFEST_PATH, Manifest

    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    manifest = Manifest.from_bytes(files.pop(MANIFEST_PATH))
    return {"files": files, "manifest": manifest}


def test_workers_rendered_the_pages_on_postgresql(published):
    report, _folders = published
    assert report["vendor"] == "postgresql"
    assert report["worker_count"] == WORKERS  # not refused: a server database, no open transaction
    renders = report["renders"]["parallel"]
    parent = report["parent_pid"]
    by_pid: dict[int, list[int]] = {}
    for pid, pk in renders:
        by_pid.setdefault(pid, []).append(pk)
    workers = set(by_pid) - {parent}
    # the parent renders the first chunk (it loads what the workers inherit), the forked workers the rest
    assert len(by_pid.get(parent, [])) == CHUNK, by_pid
    assert 1 <= len(workers) <= WORKERS, by_pid
    public = {p["pk"] for p in report["public"]}
    assert sorted(pk for _pid, pk in renders) == sorted(public)  # every public page once, nothing else
    assert {pid for pid, _pk in report["renders"]["serial"]} == {parent}
    for name in ("parallel", "serial"):
        run = report["runs"][name]
        assert run["status"] == "succeeded" and run["rendered"] == len(public), (name, run)


@pytest.mark.parametrize("name", ["parallel", "serial"])
def test_every_public_page_is_published_with_its_content(published, name):
    report, folders = published
    files = folders[name]["files"]
    for page in report["public"]:
        path = page["url"].lstrip("/") + "index.html"
        assert path in files, (name, page["url"])
        assert page["title"].encode() in files[path], (name, page["url"])
        for feed in page["feeds"]:
            assert feed.lstrip("/") in files, (name, feed)
            assert page["title"].encode() in files[feed.lstrip("/")]
    sitemap = files["zh-hans/sitemap.xml"].decode()
    assert all(page["url"] in sitemap for page in report["public"])
    assert {"robots.txt", "sitemap.xml", "404.html", "index.html"} <= set(files)


@pytest.mark.parametrize("name", ["parallel", "serial"])
def test_no_restricted_page_is_published(published, name):
    report, folders = published
    files = folders[name]["files"]
    bodies = b"\n".join(body for path, body in files.items() if path.endswith((".html", ".xml")))
    hidden = report["hidden"]
    assert {p["title"] for p in hidden} >= {"会员专享文章", "机关内部通知", "会员学习手册", *HIDDEN_TITLES.values()}
    for page in hidden:
        prefix = page["url"].lstrip("/")
        assert not [p for p in files if p.startswith(prefix)], (name, page["url"])
        assert f'"{page["url"]}"'.encode() not in bodies, (name, page["url"])
        assert page["title"].encode() not in bodies, (name, page["title"])


@pytest.mark.parametrize("name", ["parallel", "serial"])
def test_the_folder_holds_exactly_its_manifest(published, name):
    from deploy.checks import broken_links
    from deploy.manifest import sha256_hex

    _report, folders = published
    files, manifest = folders[name]["files"], folders[name]["manifest"]
    assert not manifest.pending_deletions and not manifest.pending_purge
    assert set(files) == set(manifest.entries)  # no journal left, nothing missing or extra
    assert [p for p, e in manifest.entries.items() if sha256_hex(files[p]) != e.sha256] == []
    assert [p for p, e in manifest.entries.items() if len(files[p]) != e.size] == []
    pages = ((p, body) for p, body in files.items() if p.endswith(".html"))
    assert broken_links(pages, set(manifest.entries)) == []


def test_workers_publish_what_one_process_publishes(published):
    _report, folders = published
    parallel, serial = folders["parallel"]["manifest"].entries, folders["serial"]["manifest"].entries
    assert set(parallel) == set(serial)
    assert [p for p in parallel if parallel[p] != serial[p]] == []  # same hashes, groups, refs, headers
    assert folders["parallel"]["files"] == folders["serial"]["files"]


# -- the probe, run by the fixture above as ``python test_parallel_render_postgres.py OUT_DIR`` ------------


def _run_probe(out: str) -> None:
    import os

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings
    from wagtail.models import Page, PageViewRestriction

    from cms.visibility import public_pages
    from deploy import parallel
    from deploy.feeds import feed_urls
    from deploy.render import Renderer
    from deploy.service import publish
    from deploy.targets import get_target
    from tests.factories import ArticlePageFactory, build_site

    out_dir = Path(out)
    out_dir.mkdir(parents=True)
    base = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}  # no background publish per saved page
    with override_settings(ROOT_URLCONF="tests.deploy.urls", WAGTAILFRONTENDCACHE={}, SHUYUAN_PUBLISH=base):
        site = build_site(n_articles=EXTRA_ARTICLES)
        for _ in range(EXTRA_ARTICLES):
            ArticlePageFactory(parent=site.notices)
        ArticlePageFactory(parent=site.news, title=HIDDEN_TITLES["draft"], live=False)
        ArticlePageFactory(parent=site.notices, title=HIDDEN_TITLES["unpublished"]).unpublish()
        protected = ArticlePageFactory(parent=site.news, title=HIDDEN_TITLES["password"])
        PageViewRestriction.objects.create(page=protected, restriction_type=PageViewRestriction.PASSWORD,
                                           password="secret")

        public_ids = set(public_pages().filter(depth__gt=1).values_list("pk", flat=True))
        pages = Page.objects.filter(depth__gt=1).order_by("path").specific()
        report = {
            "vendor": connection.vendor,
            "parent_pid": os.getpid(),
            "public": [
                {"pk": p.pk, "url": p.url, "title": p.title,
                 "feeds": feed_urls(p) if callable(getattr(p, "articles", None)) else []}
                for p in pages if p.pk in public_ids
            ],
            "hidden": [{"pk": p.pk, "url": p.url, "title": p.title} for p in pages if p.pk not in public_ids],
            "runs": {},
            "renders": {},
        }

        render_page = Renderer.render_page
        log = out_dir / "renders.log"

        def logged(renderer, page):
            with open(log, "a") as fh:  # one short appended line per page, from whichever process
                fh.write(f"{os.getpid()} {page.pk}\n")
            return render_page(renderer, page)

        Renderer.render_page = logged
        parallel.CHUNK = CHUNK
        for name, workers in (("parallel", WORKERS), ("serial", 1)):
            with override_settings(SHUYUAN_PUBLISH={**base, "RENDER_WORKERS": workers, "PARALLEL_MIN_PAGES": 0}):
                if workers > 1:
                    report["worker_count"] = parallel.worker_count(len(public_ids))
                run = publish(full=True, target=get_target(out_dir / name)).run
            report["runs"][name] = {"status": run.status, "rendered": run.rendered, "error": run.error}
            report["renders"][name] = [[int(x) for x in line.split()] for line in log.read_text().splitlines()]
            log.unlink()
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    _run_probe(*sys.argv[1:])
