"""A new page's form autosaves; 发布 clicked before the browser learned of the autosaved draft still goes
to the create view. It must publish that draft, not fail on its slug and leave it behind."""

from __future__ import annotations

import re
import threading

from django.core.cache import cache
from django.test import TestCase
from wagtail.models import Page
from wagtail.test.utils.form_data import nested_form_data

from cms.models import ColumnPage
from cms.wagtail_hooks import NEW_PAGE_FORM_KEY
from tests.factories import EditorSiteMixin

JSON = {"HTTP_ACCEPT": "application/json"}


class NewPageAutosaveTests(EditorSiteMixin, TestCase):
    def setUp(self):
        super().setUp()
        cache.clear()
        self.parent = self.tree.home
        self.add_url = f"/admin/pages/add/cms/columnpage/{self.parent.pk}/"

    def opened_form_key(self) -> str:
        """Open the form as the browser does and read this opening's key."""
        html = self.client.get(self.add_url).content.decode()
        found = re.search(rf'name="{NEW_PAGE_FORM_KEY}" value="(\d+)"', html)
        self.assertIsNotNone(found, "the new page form carries no key")
        return found.group(1)

    def data(self, key: str | None, **extra) -> dict:
        data = {"title": "支部风采", "slug": "branch-life", "audience": "public", "summary": "", "intro": "", **extra}
        form_fields = ColumnPage.get_edit_handler().get_form_class().base_fields
        for field in ColumnPage._meta.concrete_fields:  # fields other parts add (密级), at their defaults
            if field.name in form_fields and field.name not in data and field.has_default():
                data[field.name] = field.get_default()
        if key is not None:
            data[NEW_PAGE_FORM_KEY] = key
        return nested_form_data(data)

    def autosave(self, key):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.add_url, self.data(key), **JSON)
        self.assertEqual(response.status_code, 200, response.content[:300])
        self.assertTrue(response.json()["success"], response.json())
        return response.json()["pk"]

    def pages(self):
        return list(ColumnPage.objects.filter(slug="branch-life"))

    # -- what must stay refused --------------------------------------------------------------------------
    def test_a_publish_from_another_opening_of_the_form_does_not_take_over_the_draft(self):
        first = self.autosave(self.opened_form_key())
        response = self.client.post(self.add_url, self.data(self.opened_form_key(), **{"action-publish": "1"}))
        self.assertEqual(response.status_code, 200)  # the form again, with the slug error
        self.assertEqual([p.pk for p in self.pages()], [first])
        self.assertFalse(Page.objects.get(pk=first).live)

    def test_another_users_key_does_not_reach_the_draft(self):
        from django.contrib.auth import get_user_model

        key = self.opened_form_key()
        first = self.autosave(key)
        other = get_user_model().objects.create_superuser("other-editor", "", "pw")
        self.client.force_login(other)
        response = self.client.post(self.add_url, self.data(key, **{"action-publish": "1"}))
        self.assertEqual(response.status_code, 200)
        self.assertEqual([p.pk for p in self.pages()], [first])
        self.assertFalse(Page.objects.get(pk=first).live)

    # -- the editor's path ------------------------------------------------------------------------------
    def test_publish_after_the_autosave_publishes_the_autosaved_draft(self):
        key = self.opened_form_key()
        draft = self.autosave(key)
        response = self.client.post(self.add_url, self.data(key, **{"action-publish": "1"}))
        self.assertEqual(response.status_code, 302, response.content.decode()[:1500])
        pages = self.pages()
        self.assertEqual([p.pk for p in pages], [draft])
        self.assertTrue(pages[0].live)
        self.assertEqual(pages[0].title, "支部风采")

    def test_a_second_autosave_to_the_create_url_updates_the_same_draft(self):
        key = self.opened_form_key()
        draft = self.autosave(key)
        response = self.client.post(self.add_url, self.data(key, title="支部风采（二）"), **JSON)
        self.assertTrue(response.json()["success"], response.json())
        self.assertEqual([p.pk for p in self.pages()], [draft])
        self.assertEqual(Page.objects.get(pk=draft).get_latest_revision_as_object().title, "支部风采（二）")

    def test_a_publish_waits_for_an_autosave_still_being_saved(self):
        from cms import wagtail_hooks

        key = self.opened_form_key()
        draft = self.autosave(key)
        request = type("Request", (), {"POST": {NEW_PAGE_FORM_KEY: key}, "user": self.user})()
        saving, made = wagtail_hooks._new_page_keys(request)
        # as if the autosave were still being saved: it is remembered 0.3 s after the publish arrives
        cache.delete(made)
        cache.set(saving, True, 5)
        timer = threading.Timer(0.3, lambda: (cache.set(made, draft), cache.delete(saving)))
        timer.start()
        response = self.client.post(self.add_url, self.data(key, **{"action-publish": "1"}))
        timer.join()
        self.assertEqual(response.status_code, 302)
        self.assertEqual([p.pk for p in self.pages()], [draft])
        self.assertTrue(Page.objects.get(pk=draft).live)

    def test_a_new_page_is_still_created_and_published_without_an_autosave(self):
        response = self.client.post(self.add_url, self.data(self.opened_form_key(), **{"action-publish": "1"}))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(self.pages()[0].live)
