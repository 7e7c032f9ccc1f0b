"""Every answer under ``/api/`` is JSON, whichever layer refuses the request, and a member's answer
is never one a shared cache may keep."""

from __future__ import annotations

import json
from unittest import mock

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory, TestCase, override_settings

from cms import visibility
from cms.api import errors
from cms.api.throttling import check_throttle_cache
from tests.factories import build_site

from .helpers import ApiClient, make_user, token_for

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def is_json_error(response) -> bool:
    return response["Content-Type"] == "application/json" and isinstance(json.loads(response.content)["message"], str)


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
class JsonErrorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)

    def test_a_bad_search_operator_is_a_400_not_a_500(self):
        for endpoint in ("pages", "images", "documents"):
            with self.subTest(endpoint=endpoint):
                response = ApiClient().get(f"/api/v2/{endpoint}/", {"search": "x", "search_operator": "xx"})
                self.assertEqual(response.status_code, 400)
                self.assertIn("search_operator must be one of: and, or", response.json()["message"])
                ok = ApiClient().get(f"/api/v2/{endpoint}/", {"search": "x", "search_operator": "or"})
                self.assertEqual(ok.status_code, 200)

    def test_wrong_methods_on_search_are_a_json_405_not_a_csrf_403(self):
        """A browser with a session cookie and no CSRF token: the API takes no sessions for writes,
        so the answer is about the method, in JSON, with Allow."""
        user = make_user("csrf-member", visibility.members_group())
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        for url in ("/api/v2/search/", "/api/v2/search/suggest/"):
            for method in ("post", "put", "delete", "patch"):
                with self.subTest(url=url, method=method):
                    response = getattr(client, method)(url, {"q": "学习"})
                    self.assertEqual(response.status_code, 405)
                    self.assertTrue(is_json_error(response), response.content[:200])
                    self.assertEqual(response["Allow"], "GET, HEAD")
        for url in ("/api/v2/pages/", "/api/v2/auth/me/"):
            response = client.delete(url)
            self.assertEqual(response.status_code, 405, url)
            self.assertTrue(is_json_error(response))
            self.assertIn("GET", response["Allow"])

    def test_a_wrong_method_is_a_405_even_with_bad_parameters(self):
        response = ApiClient().generic("TRACE", "/api/v2/preview/?token=" + "x" * 300)
        self.assertEqual(response.status_code, 405)
        self.assertTrue(is_json_error(response))

    def test_unknown_api_paths_are_a_json_404_not_a_page_or_a_redirect(self):
        for path in ("/api/v2/nothing/", "/api/v2/images/.exe/", "/api/v2/pages/abc/", "/api/v3/"):
            with self.subTest(path=path):
                response = ApiClient().get(path)
                self.assertEqual(response.status_code, 404)
                self.assertTrue(is_json_error(response), response.content[:200])

    def test_a_crash_is_a_json_500(self):
        client = ApiClient(raise_request_exception=False)
        with mock.patch("search.service.search", side_effect=RuntimeError("boom")):
            response = client.get("/api/v2/search/", {"q": "学习"})
        self.assertEqual(response.status_code, 500)
        self.assertTrue(is_json_error(response))
        self.assertNotIn("boom", response.json()["message"])

    def test_csrf_failures_answer_json_on_the_api_and_django_s_page_elsewhere(self):
        factory = RequestFactory()
        api = errors.csrf_failure(factory.post("/api/v2/anything/"), reason="CSRF cookie not set.")
        self.assertEqual(api.status_code, 403)
        self.assertTrue(is_json_error(api))
        site = errors.csrf_failure(factory.post("/accounts/login/"), reason="CSRF cookie not set.")
        self.assertEqual(site.status_code, 403)
        self.assertIn("text/html", site["Content-Type"])
        # Through the middleware: a login form posted without its token still gets Django's page.
        response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})
        self.assertEqual(response.status_code, 403)
        self.assertIn("text/html", response["Content-Type"])


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
class PrivateAnswerTests(TestCase):
    """Members' answers: ``private, no-store`` and ``Vary: Authorization``; anonymous answers keep
    their public caching, and vary on Authorization so a cache never hands one to a token holder."""

    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)
        cls.member_token = token_for(make_user("cache-member", visibility.members_group()))
        cls.plain_token = token_for(make_user("cache-plain"))

    def cache_control(self, response) -> set[str]:
        return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}

    def vary(self, response) -> set[str]:
        return {part.strip().lower() for part in response.get("Vary", "").split(",")}

    def test_members_answers_are_private_and_not_stored(self):
        article = self.site.members_article
        urls = (
            "/api/v2/pages/",
            f"/api/v2/pages/{article.pk}/",
            "/api/v2/images/",
            "/api/v2/documents/",
            "/api/v2/search/?q=学习",
            "/api/v2/search/suggest/?q=学",
            "/api/v2/auth/me/",
        )
        for url in urls:
            with self.subTest(url=url):
                response = ApiClient(self.member_token).get(url)
                self.assertEqual(response.status_code, 200, response.content[:200])
                self.assertLessEqual({"private", "no-store"}, self.cache_control(response))
                self.assertNotIn("public", self.cache_control(response))
                self.assertIn("authorization", self.vary(response))

    def test_token_answers_without_members_content_are_still_private(self):
        response = ApiClient(self.plain_token).get("/api/v2/pages/")
        self.assertLessEqual({"private", "no-store"}, self.cache_control(response))
        self.assertIn("authorization", self.vary(response))

    def test_a_public_document_downloaded_with_a_token_is_not_public(self):
        from media.models import ShuyuanDocument

        document = ShuyuanDocument.objects.create(title="公开文件", audience="public", file="documents/p.txt")
        response = ApiClient(self.member_token).get(f"/api/v2/documents/{document.pk}/")
        self.assertIn("private", self.cache_control(response))

    def test_anonymous_answers_keep_their_caching_and_vary_on_authorization(self):
        response = ApiClient().get("/api/v2/pages/")
        self.assertNotIn("private", self.cache_control(response))
        self.assertNotIn("no-store", self.cache_control(response))
        self.assertIn("authorization", self.vary(response))

    def test_token_answers_are_never_stored(self):
        user = make_user("cache-login")
        response = ApiClient().post(
            "/api/v2/auth/token/", json.dumps({"username": user.username, "password": "pw-cache-login"}),
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", self.cache_control(response))

    def test_the_members_search_page_session_makes_search_answers_private(self):
        client = Client()
        client.force_login(make_user("cache-session", visibility.members_group()))
        response = client.get("/api/v2/search/", {"q": "学习"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("private", self.cache_control(response))


class ThrottleCacheTests(TestCase):
    """Rate limits count in the cache named by SHUYUAN_API["THROTTLE_CACHE"], so production can point
    them at a store every worker shares."""

    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"},
    }

    def test_api_and_search_limits_count_in_the_named_cache(self):
        limits = {"RATE_LIMITS": {"anon": "2/min", "user": None, "auth": None}, "THROTTLE_CACHE": "shared"}
        with self.settings(CACHES=self.CACHES, SHUYUAN_API=limits, SHUYUAN_SEARCH=IN_MEMORY,
                           SHUYUAN_SEARCH_RATE_LIMIT=(1, 60)):
            caches["default"].clear()
            caches["shared"].clear()
            codes = [ApiClient().get("/api/v2/schema/").status_code for _ in range(3)]
            search = [ApiClient().get("/api/v2/search/").status_code for _ in range(2)]
            self.assertEqual(codes, [200, 200, 429])
            self.assertEqual(search, [200, 429])
            self.assertIsNotNone(caches["shared"].get("throttle_anon_127.0.0.1"))
            self.assertIsNone(caches["default"].get("throttle_anon_127.0.0.1"))
            caches["shared"].clear()  # another worker's view of a shared store: counts start again
            self.assertEqual(ApiClient().get("/api/v2/schema/").status_code, 200)

    def test_an_unknown_alias_fails_loudly_naming_the_setting(self):
        with self.settings(SHUYUAN_API={"THROTTLE_CACHE": "nowhere"}):
            problems = check_throttle_cache()
            self.assertEqual([p.id for p in problems], ["shuyuan_api.E001"])
            self.assertIn("THROTTLE_CACHE", problems[0].msg)
            with self.assertRaisesMessage(ImproperlyConfigured, "THROTTLE_CACHE"):
                ApiClient().get("/api/v2/schema/")
        self.assertEqual(check_throttle_cache(), [])
