"""Draft preview for decoupled front ends: admin link → signed short-lived token → draft JSON."""

from urllib.parse import parse_qs, urlparse

from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings

from cms.api.preview import make_token

from .golden_site import build_golden_site
from .helpers import ApiClient

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


@override_settings(
    SHUYUAN_API=NO_LIMITS,
    WAGTAIL_HEADLESS_PREVIEW={"CLIENT_URLS": {"default": "https://app.example.org/preview"}},
)
class PreviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.site = build_golden_site()
        cls.editor = get_user_model().objects.create_superuser("editor", "e@example.org", "pw")
        article = cls.site["article"]
        article.title = "草稿标题"
        cls.revision = article.save_revision(user=cls.editor)  # a draft: the live page keeps its title

    def token_from_admin(self, page):
        self.client.force_login(self.editor)
        response = self.client.get(f"/admin/app-preview/{page.pk}/")
        self.assertEqual(response.status_code, 302)
        location = urlparse(response["Location"])
        self.assertEqual(f"{location.scheme}://{location.netloc}{location.path}", "https://app.example.org/preview")
        query = parse_qs(location.query)
        self.assertEqual(query["content_type"], ["cms.articlepage"])
        return query["token"][0]

    def test_editor_previews_the_draft_in_the_app(self):
        token = self.token_from_admin(self.site["article"])
        response = ApiClient().get("/api/v2/preview/", {"token": token})
        self.assertEqual(response.status_code, 200, response.content[:300])
        data = response.json()
        self.assertEqual(data["title"], "草稿标题")
        self.assertEqual(data["meta"]["preview"]["revision"], self.revision.pk)
        self.assertEqual(response["Cache-Control"], "private, no-store")
        # The live page is unchanged for everyone else.
        live = ApiClient().get(f"/api/v2/pages/{self.site['article'].pk}/").json()
        self.assertEqual(live["title"], "示范文章")
        # Internal documents stay hidden in a preview too.
        audio = next(block for block in data["body"] if block["type"] == "audio")
        self.assertIsNone(audio["value"]["file"])

    def test_tampered_and_expired_tokens(self):
        token = make_token(self.site["article"], self.revision)
        self.assertEqual(ApiClient().get("/api/v2/preview/", {"token": token + "x"}).status_code, 403)
        self.assertEqual(ApiClient().get("/api/v2/preview/").status_code, 400)
        with self.settings(SHUYUAN_API={**NO_LIMITS, "PREVIEW_TOKEN_TTL": -1}):
            response = ApiClient().get("/api/v2/preview/", {"token": token})
        self.assertEqual(response.status_code, 403)
        self.assertIn("expired", response.json()["message"])

    def test_internal_pages_are_not_previewed_outside_the_cms(self):
        internal = self.site["internal"]
        token = make_token(internal, internal.save_revision(user=self.editor))
        self.assertEqual(ApiClient().get("/api/v2/preview/", {"token": token}).status_code, 404)

    def test_only_editors_get_preview_links(self):
        self.assertEqual(self.client.get(f"/admin/app-preview/{self.site['article'].pk}/").status_code, 302)
        user = get_user_model().objects.create_user("reader", password="pw")
        self.client.force_login(user)
        response = self.client.get(f"/admin/app-preview/{self.site['article'].pk}/")
        self.assertIn(response.status_code, (302, 403))
        if response.status_code == 302:
            self.assertNotIn("token=", response["Location"])
