"""In the page editor, 涉密 is a form error (涉密信息不得上网) and nothing is saved."""

from __future__ import annotations

from django.urls import reverse
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.models import ArticlePage
from tests.factories import EditorSiteMixin


class SecretPageFormTests(EditorSiteMixin, WagtailPageTestCase):
    def data(self, classification):
        return nested_form_data({
            "title": "涉密测试", "slug": "secret-test", "audience": "public", "summary": "",
            "classification": classification, "subtitle": "", "source": "", "author": "", "date": "2025-01-02",
            "body": streamfield([("paragraph", rich_text("<p>正文</p>"))]), "tags": "",
        })

    def test_a_secret_page_is_a_form_error_and_is_not_saved(self):
        url = reverse("wagtailadmin_pages:add", args=("cms", "articlepage", self.tree.news.pk))
        response = self.client.post(url, self.data("secret"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "涉密信息不得上网")
        self.assertFalse(ArticlePage.objects.filter(slug="secret-test").exists())

    def test_a_public_page_is_saved(self):
        url = reverse("wagtailadmin_pages:add", args=("cms", "articlepage", self.tree.news.pk))
        response = self.client.post(url, self.data("public"))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(ArticlePage.objects.filter(slug="secret-test").exists())
