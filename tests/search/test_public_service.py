"""The public search (内外网隔离): an exported bundle of public documents, served with no CMS.

Negative cases first: the exported bundle holds no members-only, password-protected, 内部 (by audience
or by 密级), secrecy-held, draft or expired page, by id, by a word only that page has, and in the
suggestions; the export stops, switching nothing, when the publisher's own check disagrees; bad
parameters get a 400 JSON. Then the service answers from the bundle in a process that has no Django
settings and no database: imported bare (no Django module loaded) and started by its command.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import pytest
from wagtail.models import PageViewRestriction

from cms.visibility import Audience
from search.backends.base import SearchDocument
from search.documents import document_id
from search.public import params
from search.public.app import EventLog, PublicSearchApp
from search.public.bundle import CURRENT, BundleError, PublicBundle, write_release
from search.public.export import PublicExportError, export_public_search
from search.text import Analyzer
from tests.factories import ArticlePageFactory, build_site

ROOT = Path(__file__).resolve().parents[2]

#: a word only that page has (none of them is in the factories' word list)
PUBLIC_WORD = "青松"
HIDDEN_WORDS = {
    "members": "翠柏",
    "password": "苍梧",
    "internal": "紫藤",
    "draft": "银杏",
    "held": "金桂",
    "classified": "丹枫",
    "expired": "玉兰",
}


def publish_from_code(page, user):
    page.save_revision(user=user).publish(user=user)
    page.refresh_from_db()
    return page


@pytest.fixture
def tree(db, settings):
    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    settings.WAGTAILFRONTENDCACHE = {}
    settings.SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    author = get_user_model().objects.create_superuser("采集员", "a@example.org", "x-Long-pass-123")
    site = build_site(n_articles=2)
    pages = {"public": ArticlePageFactory(parent=site.news, title=f"{PUBLIC_WORD}公开文章", summary=f"{PUBLIC_WORD}摘要。")}
    w = HIDDEN_WORDS
    pages["members"] = ArticlePageFactory(parent=site.news, title=f"{w['members']}文章", audience=Audience.MEMBERS)
    pages["password"] = ArticlePageFactory(parent=site.news, title=f"{w['password']}文章")
    PageViewRestriction.objects.create(page=pages["password"], restriction_type=PageViewRestriction.PASSWORD, password="x")
    pages["internal"] = ArticlePageFactory(parent=site.notices, title=f"{w['internal']}文章", audience=Audience.INTERNAL)
    pages["draft"] = ArticlePageFactory(parent=site.news, title=f"{w['draft']}文章", live=False)
    held = ArticlePageFactory(parent=site.news, title=f"{w['held']}文章", summary="普通摘要")
    held.summary = "本通知属机密，请勿外传"
    pages["held"] = publish_from_code(held, author)
    classified = ArticlePageFactory(parent=site.news, title=f"{w['classified']}文章")
    classified.classification = "internal"
    pages["classified"] = publish_from_code(classified, author)
    pages["expired"] = ArticlePageFactory(parent=site.news, title=f"{w['expired']}文章")
    pages["expired"].expire_at = timezone.now() - timezone.timedelta(minutes=1)
    pages["expired"].save()
    return site, pages


def call(app: PublicSearchApp, path: str, query: dict | None = None, *, method: str = "GET", body: bytes = b"", headers=None):
    """One request through the WSGI app: (status code, headers, JSON or None)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query or {}, doseq=True),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": io.BytesIO(body),
        **(headers or {}),
    }
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)

    data = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], json.loads(data) if data else None


def found_ids(app: PublicSearchApp, q: str) -> set[str]:
    status, _headers, data = call(app, "/api/v2/search/", {"q": q, "page_size": 50})
    assert status == 200, data
    return {hit["id"] for hit in data["results"]}


# -- nothing restricted is exported ---------------------------------------------------------------------
def test_the_exported_bundle_holds_public_documents_only(tree, tmp_path):
    site, pages = tree
    result = export_public_search(tmp_path / "bundle")
    release = PublicBundle(tmp_path / "bundle").current()
    ids = release.engine.document_ids()

    hidden = {name: document_id(page.pk) for name, page in pages.items() if name != "public"}
    hidden |= {"tree-members": document_id(site.members_article.pk), "tree-internal": document_id(site.internal_article.pk),
               "tree-material": document_id(site.members_material.pk)}
    assert not ids & set(hidden.values()), {n: i for n, i in hidden.items() if i in ids}
    assert document_id(pages["public"].pk) in ids
    assert {document_id(a.pk) for a in site.articles} <= ids
    assert result.documents == len(ids) == release.documents

    app = PublicSearchApp(PublicBundle(tmp_path / "bundle"), events=EventLog(io.StringIO()))
    for name, word in HIDDEN_WORDS.items():
        assert found_ids(app, word) == set(), name
        status, _h, data = call(app, "/api/v2/search/suggest/", {"q": word})
        assert status == 200 and data["suggestions"] == [], (name, data)
    assert found_ids(app, PUBLIC_WORD) == {document_id(pages["public"].pk)}
    _s, _h, data = call(app, "/api/v2/search/suggest/", {"q": PUBLIC_WORD})
    assert f"{PUBLIC_WORD}公开文章" in data["suggestions"]
    # browsing every article lists the public ones only
    _s, _h, data = call(app, "/api/v2/search/", {"kind": "article", "page_size": 50})
    assert {hit["id"] for hit in data["results"]} == {i for i in ids if i.startswith("page:")} & {
        document_id(p.pk) for p in [*site.articles, pages["public"]]
    }


def test_the_export_stops_when_the_publishers_check_disagrees(tree, tmp_path):
    site, pages = tree
    first = export_public_search(tmp_path / "bundle")
    disagreeing = {pk for pk in site.home.get_descendants().values_list("pk", flat=True)} - {pages["public"].pk}
    with mock.patch("deploy.checks.independently_public_ids", return_value=disagreeing):
        with pytest.raises(PublicExportError, match=document_id(pages["public"].pk)):
            export_public_search(tmp_path / "bundle")
    # the live release is still the first; the half-written one is gone
    assert (tmp_path / "bundle" / CURRENT).read_text().strip() == first.release
    assert [p.name for p in (tmp_path / "bundle").iterdir() if p.is_dir()] == [first.release]


def test_a_bundle_refuses_a_document_that_is_not_public(tmp_path):
    doc = SearchDocument(id="page:9", kind="article", title="会员文章", audience="members")
    with pytest.raises(ValueError, match="page:9 is not public"):
        write_release(tmp_path / "b", [doc], analyzer=Analyzer())
    assert not (tmp_path / "b" / CURRENT).exists()
    with pytest.raises(BundleError):
        PublicBundle(tmp_path / "b")


def test_a_shipped_archive_opens_as_a_bundle_and_a_new_release_is_picked_up(tmp_path):
    import tarfile

    docs = [SearchDocument(id="page:1", kind="article", title="三会一课旧稿", body="支部")]
    first = write_release(tmp_path / "inside", docs, analyzer=Analyzer(), archive=tmp_path / "ship.tar.gz")
    with tarfile.open(tmp_path / "ship.tar.gz") as tar:
        tar.extractall(tmp_path / "outside", filter="data")
    shipped = PublicBundle(tmp_path / "outside" / first.release)
    assert shipped.current().engine.document_ids() == {"page:1"}

    live = PublicBundle(tmp_path / "inside", reload_every=0)
    app = PublicSearchApp(live, events=EventLog(io.StringIO()))
    assert found_ids(app, "旧稿") == {"page:1"}
    write_release(tmp_path / "inside", [SearchDocument(id="page:2", kind="article", title="三会一课新稿", body="支部")],
                  analyzer=Analyzer(), keep=1)
    assert found_ids(app, "新稿") == {"page:2"} and found_ids(app, "旧稿") == set()
    assert [p.name for p in (tmp_path / "inside").iterdir() if p.is_dir()] == [live.current().name]


# -- bad requests -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    docs = [
        SearchDocument(id=f"page:{i}", kind="article", title=f"三会一课学习{i}", body="支部按时开展三会一课。" * 3, url=f"/zh-hans/a{i}/")
        for i in range(1, 4)
    ]
    root = tmp_path_factory.mktemp("bundle")
    choices = {"locales": ["zh-hans", "zh-hant", "en"], "kinds": ["article", "material"], "provinces": {"beijing": "北京市"}}
    write_release(root, docs, analyzer=Analyzer(), choices=choices)
    events = io.StringIO()
    return PublicSearchApp(PublicBundle(root), origins=["https://www.example.org"], events=EventLog(events)), events


@pytest.mark.parametrize(
    "query, message",
    [
        ({"q": "学" * 201}, "q is longer than 200"),
        ({"q": "学习", "page_size": "51"}, "page_size must be a whole number from 1 to 50"),
        ({"q": "学习", "page_size": "0"}, "page_size"),
        ({"q": "学习", "page": "-1"}, "page must be"),
        ({"q": "学习", "page": "¹"}, "page must be"),
        ({"q": "学习", "sort": "price"}, "sort must be one of"),
        ({"q": "学习", "locale": "fr"}, "locale 'fr' doesn't exist"),
        ({"q": "学习", "kind": "secret"}, "kind 'secret' doesn't exist"),
        ({"q": "学习", "year": "20x5"}, "year must be four digits"),
        ({"q": "学习", "province": "mars"}, "province 'mars'"),
        ({"q": "学习", "date_from": "2025-13-01"}, "date_from must be a date"),
        ({"q": ["学习", "党建"]}, "q is given more than once"),
        ({"q": "学\x00习"}, "null character"),
        ({"q": "学习", "audience": "members"}, "not recognised: audience"),
        ({"q": "学习", "topic": ["t"] * 11}, "topic is given more than 10 times"),
    ],
)
def test_bad_search_parameters_are_a_400_saying_why(small_app, query, message):
    app, _events = small_app
    status, headers, data = call(app, "/api/v2/search/", query)
    assert status == 400, data
    assert headers["Content-Type"].startswith("application/json")
    assert message in data["message"]


def test_bad_suggest_click_and_method_requests(small_app):
    app, events = small_app
    assert call(app, "/api/v2/search/suggest/", {"q": "学" * 51})[0] == 400
    assert call(app, "/api/v2/search/suggest/", {"q": "学", "locale": "xx"})[0] == 400
    for fields in ({"log": "x", "doc": "page:1", "pos": "1"}, {"log": "1", "doc": "<b>", "pos": "1"}, {"log": "1", "doc": "page:1", "pos": "0"}):
        status, _h, data = call(app, "/api/v2/search/click/", method="POST", body=urlencode(fields).encode())
        assert status == 400 and data["message"], fields
    assert call(app, "/api/v2/search/click/", method="POST", body=b"log=1&doc=page:1&pos=1" + b"&x=" + b"a" * 3000)[0] == 400
    status, headers, _data = call(app, "/api/v2/search/", method="PUT")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert call(app, "/api/v2/search/click/")[0] == 405
    assert call(app, "/api/v2/pages/")[0] == 404
    assert '"click"' not in events.getvalue()


def test_search_suggest_and_click_answer_as_the_cms_api_does(small_app):
    app, events = small_app
    status, headers, data = call(app, "/api/v2/search/", {"q": "三会一课", "locale": "zh-hans", "page_size": 2})
    assert status == 200
    assert data["total"] == 3 and data["num_pages"] == 2 and len(data["results"]) == 2
    hit = data["results"][0]
    assert "<mark>三会一课</mark>" in hit["title_html"] and "<mark>" in hit["snippet_html"] and hit["url"].startswith("/zh-hans/")
    assert data["facets"]["kind"] == [{"value": "article", "count": 3}]
    assert isinstance(data["log_id"], int) and data["query"] == "三会一课" and data["sort"] == "relevance"
    assert "Access-Control-Allow-Origin" not in headers  # no Origin, no CORS header
    # page 2 is not logged; past the result window: the total, no hits
    assert call(app, "/api/v2/search/", {"q": "三会一课", "page": "2", "page_size": 2})[2]["log_id"] is None
    deep = call(app, "/api/v2/search/", {"q": "三会一课", "page": "10000", "page_size": "50"})[2]
    assert deep["total"] == 3 and deep["results"] == []
    assert call(app, "/api/v2/search/", {})[2]["results"] == []  # asking nothing is an empty page

    assert "三会一课学习1" in call(app, "/api/v2/search/suggest/", {"q": "三会"})[2]["suggestions"]

    body = urlencode({"log": data["log_id"], "doc": hit["id"], "pos": 1}).encode()
    assert call(app, "/api/v2/search/click/", method="POST", body=body)[0] == 204
    logged = [json.loads(line) for line in events.getvalue().splitlines()]
    assert {"event": "search", "log_id": data["log_id"], "q": "三会一课", "results": 3}.items() <= logged[0].items()
    assert {"event": "click", "log_id": data["log_id"], "doc": hit["id"], "pos": 1}.items() <= logged[-1].items()


def test_cors_admits_the_sites_origin_only(small_app):
    app, _events = small_app
    site = {"HTTP_ORIGIN": "https://www.example.org"}
    _s, headers, _d = call(app, "/api/v2/search/", {"q": "学习"}, headers=site)
    assert headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    _s, headers, _d = call(app, "/api/v2/search/", {"q": "学习"}, headers={"HTTP_ORIGIN": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _d = call(app, "/api/v2/search/click/", method="OPTIONS", headers=site)
    assert status == 204 and "POST" in headers["Access-Control-Allow-Methods"]
    # a 400 carries the header too, so the page's script can read the message
    assert "Access-Control-Allow-Origin" in call(app, "/api/v2/search/", {"page": "x"}, headers=site)[1]


def test_the_limits_are_the_cms_apis(db):
    from cms.api import params as cms_params

    for name in ("MAX_QUERY_LENGTH", "MAX_SUGGEST_LENGTH", "MAX_PAGE_SIZE", "MAX_PAGE", "MAX_FILTER_VALUES",
                 "MAX_FILTER_LENGTH", "SORTS", "FILTER_PARAMS", "SINGLE_PARAMS", "EXACT_FILTERS"):
        assert getattr(params, name) == getattr(cms_params, name), name


# -- with the CMS stopped ---------------------------------------------------------------------------
def bare_env(**extra) -> dict[str, str]:
    """An environment with no Django settings and no database: what the public host has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "SHUYUAN", "PYTEST"))}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_the_service_runs_without_django_or_a_database(tree, tmp_path):
    _site, pages = tree
    export_public_search(tmp_path / "bundle")
    script = (
        "import io, json, sys\n"
        "from search.public.wsgi import application\n"
        "out = {}\n"
        "def start(status, headers): out['status'] = status\n"
        "env = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/api/v2/search/', 'QUERY_STRING': 'q=%E9%9D%92%E6%9D%BE',"
        " 'wsgi.input': io.BytesIO()}\n"
        "body = json.loads(b''.join(application(env, start)))\n"
        "print(json.dumps({'status': out['status'], 'ids': [h['id'] for h in body['results']],"
        " 'django': sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'wagtail', 'cms'))}))\n"
    )
    env = bare_env(SHUYUAN_PUBLIC_SEARCH_INDEX=str(tmp_path / "bundle"), SHUYUAN_PUBLIC_SEARCH_LOG=str(tmp_path / "events.jsonl"))
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"status": "200 OK", "ids": [document_id(pages["public"].pk)], "django": []}


def test_a_missing_bundle_stops_the_service_at_start_up(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "search.public", "--index", str(tmp_path / "nothing"), "--port", "9"],
        env=bare_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "is not a public search bundle" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, origin: str | None = None):
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read() or b"null")


def test_the_started_service_answers_with_the_cms_stopped(tree, tmp_path):
    """``python -m search.public`` (what ``manage.py serve_public_search`` runs) under granian, in a
    process with no Django settings, no database settings and no CMS address."""
    _site, pages = tree
    export_public_search(tmp_path / "bundle")
    port = _free_port()
    events = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "search.public", "--index", str(tmp_path / "bundle"), "--port", str(port),
               "--allow-origin", "https://www.example.org", "--log", str(events)]
    server = subprocess.Popen(command, env=bare_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(server.stdout.read().decode()[-2000:] if server.poll() is not None else "no answer") from None
                time.sleep(0.2)
        status, headers, data = _get(f"{base}/api/v2/search/?{urlencode({'q': PUBLIC_WORD})}", "https://www.example.org")
        assert status == 200 and [h["id"] for h in data["results"]] == [document_id(pages["public"].pk)]
        assert headers["Access-Control-Allow-Origin"] == "https://www.example.org"
        for word in HIDDEN_WORDS.values():
            assert _get(f"{base}/api/v2/search/?{urlencode({'q': word})}")[2]["results"] == []
        assert _get(f"{base}/api/v2/search/?page_size=500&q=x")[0] == 400
        request = urllib.request.Request(base + "/api/v2/search/click/", data=urlencode(
            {"log": data["log_id"], "doc": data["results"][0]["id"], "pos": 1}).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
        assert '"event": "click"' in events.read_text()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


# -- after a publish ----------------------------------------------------------------------------------
def test_a_requested_export_runs_once_for_what_it_covers(tree, tmp_path, settings):
    from search.public import tasks
    from search.public.bundle import live_started

    settings.SHUYUAN_PUBLIC_SEARCH_EXPORT = None
    assert tasks.request_export() is False
    assert not (tmp_path / "bundle").exists()

    settings.SHUYUAN_PUBLIC_SEARCH_EXPORT = str(tmp_path / "bundle")
    assert tasks.request_export() is True  # the test settings run jobs at once
    first = (tmp_path / "bundle" / CURRENT).read_text().strip()
    # a request older than the live release's start is covered: no new release
    stale = (live_started(tmp_path / "bundle") - dt.timedelta(seconds=1)).isoformat()
    assert tasks.export_public_search_task.call(stale)["skipped"] == "covered by the live release"
    assert (tmp_path / "bundle" / CURRENT).read_text().strip() == first


# -- on Elasticsearch (the real client against a recording node: no server needed) ----------------------
def test_an_elasticsearch_bundle_writes_and_reads_a_public_only_alias(tmp_path):
    from tests.search.es_fake import RecordingNode

    RecordingNode.requests, RecordingNode.responder = [], None
    es = {"URLS": ["http://es-public.invalid:9200"], "INDEX": "shuyuan-public", "CLIENT_OPTIONS": {"node_class": RecordingNode}}
    docs = [SearchDocument(id=f"page:{i}", kind="article", title=f"三会一课{i}", body="支部学习") for i in (1, 2)]
    with pytest.raises(ValueError, match="page:3 is not public"):
        write_release(tmp_path / "b", [*docs, SearchDocument(id="page:3", kind="article", title="会员", audience="members")],
                      analyzer=Analyzer(), elasticsearch=es)
    assert not (tmp_path / "b" / CURRENT).exists()
    RecordingNode.requests = []
    try:
        write_release(tmp_path / "b", docs, analyzer=Analyzer(), elasticsearch=es)
        bulk = [line for r in RecordingNode.requests if r.path.split("?")[0].endswith("/_bulk") for line in r.ndjson]
        assert {line["create"]["_id"] for line in bulk if "create" in line} == {"page:1", "page:2"}
        assert [line["audience"] for line in bulk if "create" not in line] == ["public", "public"]
        switch = next(r for r in RecordingNode.requests if r.path.startswith("/_aliases"))
        assert {"add": {"index": bulk[0]["create"]["_index"], "alias": "shuyuan-public"}} in switch.body["actions"]
        # the bundle names the alias, never the cluster's address or credentials
        manifest = (tmp_path / "b" / (tmp_path / "b" / CURRENT).read_text().strip() / "bundle.json").read_text()
        assert "shuyuan-public" in manifest and "es-public.invalid" not in manifest
        with pytest.raises(BundleError, match="give the service its URL"):
            PublicBundle(tmp_path / "b")

        app = PublicSearchApp(PublicBundle(tmp_path / "b", elasticsearch={k: v for k, v in es.items() if k != "INDEX"}),
                              events=EventLog(io.StringIO()))
        RecordingNode.requests = []
        assert call(app, "/api/v2/search/", {"q": "三会一课"})[0] == 200
        searched = [r for r in RecordingNode.requests if r.path.split("?")[0].endswith("/_search")]
        assert searched and all(r.path.startswith("/shuyuan-public/") for r in searched)
        assert {"terms": {"audience": ["public"]}} in searched[0].body["query"]["bool"]["filter"]
    finally:
        RecordingNode.requests, RecordingNode.responder = [], None


# -- the static page (needs the patch to cms/models/pages.py) -------------------------------------------
def test_the_static_search_page_calls_the_public_service_when_set(tree, client, settings):
    site, _pages = tree
    settings.SHUYUAN_PUBLIC_API_URL = "https://cms.example.org"
    url = site.library.url + "search/"
    settings.SHUYUAN_PUBLIC_SEARCH_URL = None
    assert 'data-api="https://cms.example.org/api/v2/search/"' in client.get(url).content.decode()
    settings.SHUYUAN_PUBLIC_SEARCH_URL = "https://so.example.org/"
    page = client.get(url).content.decode()
    assert 'data-api="https://so.example.org/api/v2/search/"' in page
    assert 'data-suggest-url="https://so.example.org/api/v2/search/suggest/' in page
    assert "cms.example.org" not in page.split("<body")[1]


def test_a_publish_exports_the_public_search_bundle(tree, tmp_path, settings):
    from deploy.service import publish

    _site, pages = tree
    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "site"), "base_url": "/"},
    }}
    settings.SHUYUAN_PUBLIC_SEARCH_EXPORT = str(tmp_path / "bundle")
    publish(full=True)  # the test settings run the export job at once
    ids = PublicBundle(tmp_path / "bundle").current().engine.document_ids()
    assert document_id(pages["public"].pk) in ids
    assert not ids & {document_id(page.pk) for name, page in pages.items() if name != "public"}
