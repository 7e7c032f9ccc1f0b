"""``/api/v2/search/`` answers like the other endpoints: 400 ``{"message"}`` for bad parameters, an empty
page for an empty query, results (or nothing) for any other text, DRF's client identification for the
rate limit, and no page deeper than Elasticsearch's result window."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import TestCase, override_settings

from cms import visibility
from search import indexing, service
from search.backends.base import FACET_FIELDS, SearchUnavailable
from search.documents import document_id
from search.loader import get_search_backend
from tests.factories import build_site

from .helpers import ApiClient, make_user, token_for

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
URL = "/api/v2/search/"

BAD = [
    ("page=x", "page must be a whole number"),
    ("page=0", "page must be a whole number"),
    ("page=-1", "page must be a whole number"),
    ("page=1.5", "page must be a whole number"),
    ("page=%C2%B9", "page must be a whole number"),  # "¹": str.isdigit() but not a number
    ("page=10001", "from 1 to 10000"),
    ("page_size=0", "page_size must be a whole number from 1 to 50"),
    ("page_size=51", "page_size must be a whole number from 1 to 50"),
    ("page_size=-5", "page_size"),
    ("page_size=ten", "page_size"),
    ("page=10001", "10000"),
    ("page=2&page=3", "more than once"),
    ("sort=nonsense", "sort must be one of: relevance, date"),
    ("locale=xx", "locale 'xx' doesn't exist"),
    ("year=20x5", "year must be four digits"),
    ("year=12345", "year must be four digits"),
    ("date_from=yesterday", "date_from must be a date"),
    ("date_to=2025-13-01", "date_to must be a date"),
    ("date_from=20250101", "date_from must be a date"),
    ("sort=%20date", "sort must be one of"),
    ("kind=%20article", "kind ' article' doesn't exist"),
    ("year=%202025", "year must be four digits"),
    ("page=%205", "page must be a whole number"),
    ("&".join(["topic="] * 11), "more than 10"),
    ("topic=" + "%20" * 101, "topic is longer than 100"),
    ("kind=nope", "kind 'nope' doesn't exist"),
    ("province=atlantis", "province 'atlantis'"),
    ("q=" + "党" * 201, "q is longer than 200"),
    ("q=" + "a" * 3000, "q is longer than 200"),
    ("topic=" + "x" * 101, "topic is longer than 100"),
    ("&".join(f"topic=t{i}" for i in range(11)), "more than 10"),
    ("q=a&q=b", "q is given more than once"),
    ("q=%00", "null character"),
    ("colour=red", "not recognised: colour"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("params,words", BAD)
@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
def test_bad_parameters_get_a_400_that_says_why(params, words):
    response = ApiClient().get(f"{URL}?q=学习&{params}" if not params.startswith("q=") else f"{URL}?{params}")
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert set(body) == {"message"}, body  # the same error body as the DRF endpoints
    assert words in body["message"]


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
class SearchEndpointTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()

    def setUp(self):
        cache.clear()
        indexing.rebuild()

    def search(self, status=200, client=None, **params):
        response = (client or ApiClient()).get(URL, params)
        self.assertEqual(response.status_code, status, response.content[:300])
        return response.json()

    def test_suggest_refuses_bad_parameters_and_answers_the_rest(self):
        client = ApiClient()
        for params, message in (({"q": "学" * 51}, "q is longer than 50 characters"),
                                ({"q": "学", "locale": "fr"}, "locale 'fr' doesn't exist; use one of: zh-hans"),
                                ({"q": "\x00"}, "q contains a null character")):
            response = client.get("/api/v2/search/suggest/", params)
            self.assertEqual(response.status_code, 400, params)
            self.assertIn(message, response.json()["message"])
        ok = client.get("/api/v2/search/suggest/", {"q": self.tree.articles[0].title[:2], "locale": "zh-hans"})
        self.assertEqual(ok.status_code, 200)
        self.assertEqual(set(ok.json()), {"query", "suggestions"})

    def test_empty_or_blank_q_is_an_empty_page(self):
        for q in ("", " ", "\t\n ", "\u3000"):
            with self.subTest(q=q):
                data = self.search(q=q, sort="date")
                self.assertEqual((data["total"], data["results"], data["num_pages"]), (0, [], 1))
                self.assertEqual(data["facets"], {name: [] for name in FACET_FIELDS})
                self.assertIsNone(data["log_id"])
        self.assertEqual(self.search()["total"], 0)  # no q at all

    def test_a_filter_without_words_browses_newest_first(self):
        """An app listing "every article" (or one year) asks with a filter and no words."""
        public_ids = set(visibility.public_pages().values_list("pk", flat=True))
        public_articles = [a for a in self.tree.articles if a.pk in public_ids]
        self.assertTrue(public_articles)
        for q in ("", " "):
            with self.subTest(q=q):
                data = self.search(q=q, kind="article", page_size=50)
                self.assertEqual(data["total"], len(public_articles))
                self.assertEqual({r["kind"] for r in data["results"]}, {"article"})
                dates = [r["date"] for r in data["results"]]
                self.assertEqual(dates, sorted(dates, reverse=True))
                self.assertEqual(data["facets"]["kind"], [{"value": "article", "count": len(public_articles)}])
                self.assertIsNone(data["log_id"])  # nothing typed, nothing logged
        year = str(public_articles[0].date.year)
        data = self.search(year=year, page_size=50)
        self.assertTrue(data["results"])
        self.assertEqual({r["date"][:4] for r in data["results"]}, {year})

    def test_any_other_text_finds_results_or_nothing(self):
        hostile = [
            '"', "'", '"unclosed', 'title:"x"', "a AND b", "学习 OR 党建", "NOT 学习", "&&", "||", "!",
            "(((", ")))", "[1 TO 5]", "{*}", "*", "?", "学*", "*习", "a~2", "a^10", "-学习", "+学习", "\\",
            "/", "//", "<script>alert(1)</script>", "'; DROP TABLE cms_articlepage; --", "%", "%25", "_",
            "🙂", "🇨🇳学习", "👨‍👩‍👧", "\u202eevil", "e\u0301", "\x01\x02", "x" * 200, "学" * 200,
            "党建" + "a" * 198, "0", "-1", "1e309", "null", "undefined", "NaN", " 学习 ", "学习\n党建",
            "〔2026〕", "书苑党发〔2026〕9号", "ＡＢＣ", "三會一課",
        ]
        for q in hostile:
            with self.subTest(q=q):
                data = self.search(q=q)
                self.assertGreaterEqual(data["total"], 0)
                self.assertEqual(data["query"], q.strip())
        # Undecodable bytes in the query string (Django substitutes U+FFFD) are just text too.
        self.assertEqual(ApiClient().get(URL + "?q=%FF%FE").status_code, 200)

    def test_found_and_filtered(self):
        article = self.tree.articles[0]
        data = self.search(q=article.title)
        self.assertEqual(data["results"][0]["id"], document_id(article.pk))
        hit = data["results"][0]
        self.assertEqual(
            set(hit), {"id", "kind", "title", "title_html", "snippet_html", "score", "url", "html_url", "date", "source", "page"}
        )
        self.assertIn("<mark>", hit["title_html"])
        red = self.tree.red_sites[0]
        for province in (red.province, red.get_province_display()):  # a code or the name the index holds
            ids = {r["id"] for r in self.search(q=red.title, province=province, page_size=50)["results"]}
            self.assertIn(document_id(red.pk), ids)
        materials = self.search(q=article.title, kind="material", page_size=50)["results"]
        self.assertEqual({r["kind"] for r in materials} - {"material"}, set())
        self.assertNotIn(document_id(article.pk), {r["id"] for r in materials})
        day = article.date.isoformat()
        ids = {r["id"] for r in self.search(q=article.title, date_from=day, date_to=day)["results"]}
        self.assertIn(document_id(article.pk), ids)
        year = str(article.date.year + 1)
        self.assertNotIn(document_id(article.pk), {r["id"] for r in self.search(q=article.title, year=year)["results"]})
        self.assertEqual(self.search(q=article.title, topic="no such topic")["total"], 0)  # well-formed: nothing

    def test_pages_stay_inside_the_result_window(self):
        """page * page_size never passes 10,000 (Elasticsearch's default max_result_window): a page past
        it is an empty page with the total and facets (like a page past the last result), never the
        engine's refusal (a 503) nor a 400 for a request the schema allows."""
        backend = get_search_backend()
        asked = []
        real = backend.search

        def recording(query):
            asked.append((query.offset, query.page_size))
            return real(query)

        with mock.patch.object(backend, "search", side_effect=recording):
            for page_size in (1, 7, 10, 33, 50):
                for page in (1, 2, 199, 200, 201, 303, 1000, 1001, 1429, 9999, 10000):
                    response = ApiClient().get(URL, {"q": "学习", "page": page, "page_size": page_size})
                    self.assertEqual(response.status_code, 200, (page, page_size, response.content[:200]))
                    data = response.json()
                    self.assertLessEqual(len(data["results"]), page_size)
                    self.assertEqual((data["page"], data["page_size"]), (page, page_size))
                    if page * page_size > service.MAX_RESULT_WINDOW:
                        self.assertEqual(data["results"], [])
                        self.assertGreater(data["total"], 0)  # the deepest page was searched for it
        self.assertTrue(asked)
        self.assertLessEqual(max(offset + size for offset, size in asked), service.MAX_RESULT_WINDOW)
        self.assertIn((9_950, 50), asked)  # the deepest page is served

    def test_empty_values_are_left_out_and_an_empty_date_range_finds_nothing(self):
        article = self.tree.articles[0]
        blank = self.search(q=article.title, sort="", locale="", page="", page_size="", kind="", date_from="")
        self.assertEqual(blank["results"][0]["id"], document_id(article.pk))
        self.assertEqual((blank["page"], blank["page_size"], blank["sort"]), (1, 10, "relevance"))
        empty = self.search(q=article.title, date_from="2025-02-01", date_to="2025-01-01")
        self.assertEqual((empty["total"], empty["results"]), (0, []))

    def test_unavailable_engine_is_a_503_message(self):
        with mock.patch.object(get_search_backend(), "search", side_effect=SearchUnavailable("down")):
            response = ApiClient().get(URL, {"q": "学习"})
        self.assertEqual(response.status_code, 503)
        self.assertEqual(set(response.json()), {"message"})
        self.assertTrue(response["Retry-After"].isdigit())

    def test_other_methods_get_a_json_405(self):
        response = ApiClient(enforce_csrf_checks=True).post(URL, {"q": "学习"})
        self.assertEqual(response.status_code, 405)
        self.assertIn("message", response.json())
        self.assertEqual(response["Allow"], "GET, HEAD")

    def test_members_see_members_content_with_a_token(self):
        member = make_user("search-member", visibility.members_group())
        title = self.tree.members_material.title
        anonymous = {r["id"] for r in self.search(q=title, page_size=50)["results"]}
        members = {r["id"] for r in self.search(q=title, page_size=50, client=ApiClient(token_for(member)))["results"]}
        self.assertNotIn(document_id(self.tree.members_material.pk), anonymous)
        self.assertIn(document_id(self.tree.members_material.pk), members)

    @override_settings(WAGTAILAPI_BASE_URL="https://cms.intra.test", SHUYUAN_PUBLISH={"BASE_URL": "https://www.site.test"})
    def test_html_url_is_where_the_caller_reads_the_hit(self):
        member = make_user("search-reader", visibility.members_group())
        title = self.tree.members_material.title
        hits = self.search(q=title, page_size=50, client=ApiClient(token_for(member)))["results"]
        by_id = {h["id"]: h for h in hits}
        restricted = by_id[document_id(self.tree.members_material.pk)]
        # members-only: on the CMS's members' pages, never on the public static site
        self.assertEqual(restricted["html_url"], "https://cms.intra.test" + restricted["url"])
        public = [h for h in hits if h["id"].startswith("page:") and h["id"] != restricted["id"]]
        anonymous = self.search(q=title, page_size=50)["results"]
        self.assertTrue(anonymous)
        for hit in anonymous:  # everything the public finds is read on the static site
            self.assertEqual(hit["html_url"], "https://www.site.test" + hit["url"])
        for hit in public:
            if hit["id"] in {h["id"] for h in anonymous}:
                self.assertTrue(hit["html_url"].startswith("https://www.site.test/"))


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=(2, 60))
class SearchRateLimitTests(TestCase):
    """The limit uses DRF's throttle: clients are told apart as DRF does (NUM_PROXIES for
    X-Forwarded-For), signed-in callers per user, and a 429 is ``{"message"}`` with Retry-After."""

    def setUp(self):
        cache.clear()

    def statuses(self, n, **headers):
        return [ApiClient().get(URL, {"q": "学习"}, **headers).status_code for _ in range(n)]

    def test_a_429_says_when_to_retry(self):
        self.assertEqual(self.statuses(3), [200, 200, 429])
        response = ApiClient().get(URL, {"q": "学习"})
        self.assertEqual(response.status_code, 429)
        self.assertEqual(set(response.json()), {"message"})
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        # autocomplete keeps its own budget (it asks as people type), so it still answers
        self.assertEqual(ApiClient().get("/api/v2/search/suggest/", {"q": "学"}).status_code, 200)

    def test_clients_behind_a_proxy_are_told_apart_by_x_forwarded_for(self):
        with self.settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
            # Both come from the proxy's address; the proxy appends the client's own.
            first = self.statuses(3, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.7")
            second = self.statuses(2, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
            # A forged left-hand entry changes nothing: only the proxy's entry counts.
            forged = self.statuses(1, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
        self.assertEqual(first, [200, 200, 429])
        self.assertEqual(second, [200, 200])
        self.assertEqual(forged, [429])

    def test_without_proxies_the_remote_address_counts(self):
        with self.settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}):
            a = self.statuses(2, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.1")
            b = self.statuses(1, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.2")
            c = self.statuses(1, REMOTE_ADDR="198.51.100.2")
        self.assertEqual((a, b, c), ([200, 200], [429], [200]))

    def test_token_holders_are_limited_per_user(self):
        one, two = (token_for(make_user(name, visibility.members_group())) for name in ("rl-one", "rl-two"))
        codes = [ApiClient(one).get(URL, {"q": "学习"}).status_code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        self.assertEqual(ApiClient(two).get(URL, {"q": "学习"}).status_code, 200)


@pytest.mark.django_db
@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None,
                   SHUYUAN_API={"RATE_LIMITS": {"anon": None, "user": None, "auth": None}})
@pytest.mark.parametrize("params", ["locale=xx", "date_from=yesterday", "date_to=2025-13-01", "province=atlantis"])
def test_a_parameter_is_refused_with_the_same_message_by_every_endpoint(params):
    """One parser per parameter: pages, search and (for locale) suggest say the same thing."""
    messages = set()
    for url in ("/api/v2/pages/", "/api/v2/search/", "/api/v2/search/suggest/"):
        if url.endswith("suggest/") and not params.startswith("locale"):
            continue
        response = ApiClient().get(f"{url}?{params}")
        assert response.status_code == 400, (url, response.content[:200])
        messages.add(response.json()["message"])
    assert len(messages) == 1, messages


@pytest.mark.django_db
@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
def test_a_click_link_records_only_a_valid_click_and_always_redirects():
    from search.models import QueryLog, SearchClick

    log = QueryLog.objects.create(query="学习", results=3, scope="public", locale="", source="site")
    client = ApiClient()
    for params in ({"log": log.pk, "doc": "x", "pos": 1}, {"log": log.pk, "doc": "page:7"}, {"log": "", "doc": "page:7", "pos": 2},
                   {"log": log.pk, "doc": "page:7", "pos": 0}):
        response = client.get("/api/v2/search/click/", {**params, "to": "/zh-hans/"})
        assert (response.status_code, response["Location"]) == (302, "/zh-hans/"), params
    assert not SearchClick.objects.exists()
    client.get("/api/v2/search/click/", {"log": log.pk, "doc": "page:7", "pos": 3, "to": "/zh-hans/"})
    assert list(SearchClick.objects.values_list("document_id", "position")) == [("page:7", 3)]
