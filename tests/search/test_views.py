"""The members' search page reads the search API's parameters with the API's own parsers: what the API
refuses, the page leaves out (it still shows), and what the API accepts means the same on the page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse

from cms import visibility
from search import indexing
from search.documents import document_id
from search.models import QueryLog, SearchClick
from tests.factories import build_site

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
class StudySearchPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()
        cls.member = get_user_model().objects.create_user("page-member", password="pw")
        cls.member.groups.add(visibility.members_group())

    def setUp(self):
        cache.clear()
        indexing.rebuild()
        self.client.force_login(self.member)
        self.url = reverse("search:study", kwargs={"lang": "zh-hans"})

    def hit_ids(self, response) -> list[str]:
        return [hit.id for hit in response.context["outcome"].results.hits]

    def page(self, **params):
        response = self.client.get(self.url, params)
        self.assertEqual(response.status_code, 200)
        return response

    def test_parameters_the_api_refuses_are_left_out(self):
        article = self.tree.articles[0]
        response = self.page(q=article.title, page="x", page_size="500", sort="nonsense", kind="nope", year="20x5",
                             date_from="yesterday", colour="red", log="abc")
        query = response.context["query"]
        self.assertEqual((query.page, query.page_size, query.sort, query.filters), (1, 10, "relevance", {}))
        self.assertIsNone(query.date_from)
        self.assertIn(document_id(article.pk), self.hit_ids(response))
        for bad in ({"page": "2", "extra": "x", "q": "学\x00习"}, {"q": "学" * 201}):
            with self.subTest(params=bad):
                self.assertEqual(self.page(**bad).context["query"].q, "")  # the API refuses it: left out

    def test_accepted_values_mean_what_they_mean_to_the_api(self):
        red = self.tree.red_sites[0]
        for value in (red.province, red.get_province_display()):  # a code or its name, as on the API
            with self.subTest(province=value):
                response = self.page(q=red.title, province=value)
                self.assertEqual(response.context["query"].filters, {"province": [red.get_province_display()]})
                self.assertIn(document_id(red.pk), self.hit_ids(response))
        response = self.page(q="学习", kind="material", sort="date", page="2")
        query = response.context["query"]
        self.assertEqual((query.filters, query.sort, query.page, query.locale), ({"kind": ["material"]}, "date", 2, "zh-hans"))
        self.assertEqual(self.page(q="学习", locale="en").context["query"].locale, "en")

    def test_a_link_past_the_result_window_is_an_empty_page_not_an_error(self):
        response = self.page(q="学习", page="10000")
        self.assertEqual(response.context["outcome"].results.hits, [])
        self.assertGreater(response.context["outcome"].results.total, 0)

    def test_nothing_asked_shows_the_form_only(self):
        response = self.page(kind="nope")
        self.assertIsNone(response.context["outcome"])
        self.assertNotContains(response, "找到")

    def test_result_links_count_clicks_through_the_api(self):
        response = self.page(q="学习")
        log = QueryLog.objects.get(query="学习")
        hit = response.context["outcome"].results.hits[0]
        link = f"{reverse('api_search_click')}?log={log.pk}&amp;doc={hit.id}&amp;pos=1&amp;to="
        self.assertContains(response, link.replace(":", "%3A"))
        followed = self.client.get(reverse("api_search_click"), {"log": log.pk, "doc": hit.id, "pos": 1, "to": hit.url})
        self.assertEqual((followed.status_code, followed["Location"]), (302, hit.url))
        self.assertEqual(SearchClick.objects.get().document_id, hit.id)
