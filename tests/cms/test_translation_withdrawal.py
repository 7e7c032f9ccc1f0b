"""Withdrawal reaches every translation: a translation is never more visible than its zh-hans source.

Unpublishing, deleting or expiring a source takes its zh-hant and en copies with it (in the same
transaction, so the same publish removes them), and moving a source into a members-only section
makes its copies members-only. Negative assertions first: what must no longer be readable.
"""

from __future__ import annotations

import io
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Locale, Page, PageLogEntry

from cms import visibility
from cms.translation import WITHDRAWN_WITH_SOURCE, translate_page, translate_strings
from cms.visibility import Audience
from search import indexing
from search.documents import document_id
from tests.api.helpers import ApiClient, token_for
from tests.factories import ColumnPageFactory, build_site

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
RANK = {Audience.PUBLIC: 0, Audience.MEMBERS: 1, Audience.INTERNAL: 2}


def translate_chain(page, locale):
    """Translate ``page`` and its untranslated ancestors, one commit per editor action as in the admin
    (wagtail-localize publishes on commit)."""
    for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
        if ancestor.get_translation_or_none(locale) is None or ancestor.pk == page.pk:
            with TestCase.captureOnCommitCallbacks(execute=True):
                translate_page(ancestor, locale)
    cache.clear()  # Wagtail caches the site's root paths per language
    return page.get_translation(locale).specific


def keep_strings(page, locale):
    """A translator goes through every string of ``page`` and its ancestors and keeps it as it is: the
    copies are translations (an untranslated copy is never public), with the source's text and slugs."""
    for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
        with TestCase.captureOnCommitCallbacks(execute=True):
            translate_strings(ancestor.specific, locale, lambda text: text)
    cache.clear()
    return page.get_translation(locale).specific


def public_ids() -> set[int]:
    return set(visibility.public_pages().values_list("pk", flat=True))


def assert_translations_no_wider_than_sources(testcase, pages=None) -> int:
    """The invariant over a whole tree: for every page with a zh-hans source, its audience is never wider
    than its source's, and the querysets every output uses agree with ``audience_of``. Returns the number
    of translations checked."""
    pages = list(Page.objects.filter(depth__gt=1) if pages is None else pages)
    public = public_ids()
    members = set(visibility.member_pages().values_list("pk", flat=True))
    sources = {
        p.translation_key: p for p in Page.objects.filter(locale__language_code=settings.LANGUAGE_CODE, depth__gt=1)
    }
    checked = 0
    for page in pages:
        audience = visibility.audience_of(page)
        testcase.assertEqual(page.pk in public, audience == Audience.PUBLIC, page)
        testcase.assertEqual(page.pk in members, audience != Audience.INTERNAL, page)
        source = sources.get(page.translation_key)
        if source is None or source.pk == page.pk:
            continue
        source_audience = visibility.audience_of(source)
        testcase.assertGreaterEqual(RANK[audience], RANK[source_audience], f"{page} is wider than its source {source}")
        checked += 1
    return checked


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None)
class WithdrawalTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)
        cls.admin = get_user_model().objects.create_superuser("admin", "", "pw")
        cls.member = get_user_model().objects.create_user("member", password="pw")
        cls.member.groups.add(visibility.members_group())
        cls.zh_hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.source, cls.other = cls.tree.articles
        cls.source.title = "党建信息化学习资料"
        cls.source.save_revision().publish()
        cls.hant = translate_chain(cls.source, cls.zh_hant)
        translate_chain(cls.source, cls.en)
        cls.en_copy = keep_strings(cls.source, cls.en)
        cls.other_hant = translate_chain(cls.other, cls.zh_hant)

    def setUp(self):
        cache.clear()
        self.anonymous = Client()

    def copies(self):
        return [Page.objects.get(pk=self.hant.pk), Page.objects.get(pk=self.en_copy.pk)]

    def member_api(self):
        return ApiClient(token_for(self.member))

    def get(self, url, client=None):
        return (client or self.anonymous).get(url, HTTP_HOST="localhost")

    def search_ids(self, query, locale):
        data = self.get(f"/api/v2/search/?q={query}&locale={locale}&page_size=50").json()
        return {r["id"] for r in data["results"]}

    def test_unpublishing_a_source_withdraws_its_translations_from_every_output(self):
        indexing.rebuild()
        hant_title = self.hant.title
        # what the copies look like before, so that the negative checks below can fail
        self.assertEqual(self.get(self.hant.url).status_code, 200)
        self.assertEqual(self.get(f"/api/v2/pages/{self.hant.pk}/").status_code, 200)
        self.assertIn(document_id(self.hant.pk), self.search_ids(hant_title, "zh-hant"))

        self.client.force_login(self.admin)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("wagtailadmin_pages:unpublish", args=[self.source.pk]))
        self.assertEqual(response.status_code, 302)
        cache.clear()

        for copy, url in zip(self.copies(), (self.hant.url, self.en_copy.url), strict=True):
            self.assertFalse(copy.live, copy)
            self.assertNotIn(copy.pk, public_ids())
            self.assertEqual(self.get(url).status_code, 404, url)
            self.assertEqual(self.get(f"/api/v2/pages/{copy.pk}/").status_code, 404)
            listed = self.get(f"/api/v2/pages/?locale={copy.locale.language_code}&limit=50").json()["items"]
            self.assertNotIn(copy.pk, {item["id"] for item in listed})
            # a hidden page names nothing: its translations are an empty listing, as for a missing id
            answer = self.get(f"/api/v2/pages/?translation_of={copy.pk}")
            self.assertEqual((answer.status_code, answer.json()["items"]), (200, []))
            self.assertNotIn(document_id(copy.pk), self.search_ids(hant_title, copy.locale.language_code))
            # the copy was withdrawn in the editor's name, with a reason the page history names
            entry = PageLogEntry.objects.filter(page_id=copy.pk).order_by("-timestamp").first()
            self.assertEqual((entry.action, entry.user_id), (WITHDRAWN_WITH_SOURCE, self.admin.pk))
        # members see no more than the public: the copies are gone for them too
        self.assertEqual(self.get(f"/api/v2/pages/{self.hant.pk}/", self.member_api()).status_code, 404)
        # the other article and its copy are untouched
        self.assertIn(self.other_hant.pk, public_ids())
        self.assertEqual(self.get(self.other_hant.url).status_code, 200)

    def test_the_confirmation_pages_list_the_translations_that_go_with_the_page(self):
        self.client.force_login(self.admin)
        # a translation has no followers: its own confirmation names none
        own = self.client.get(reverse("wagtailadmin_pages:unpublish", args=[self.hant.pk])).content.decode()
        self.assertNotIn("随本页一并取消发布", own)
        page = self.client.get(reverse("wagtailadmin_pages:unpublish", args=[self.source.pk])).content.decode()
        self.assertIn("以下译文将随本页一并取消发布", page)
        for copy in (self.hant, self.en_copy):
            self.assertIn(copy.title, page)
            self.assertIn(copy.locale.get_display_name(), page)
        self.assertNotIn(self.other_hant.title, page)
        page = self.client.get(reverse("wagtailadmin_pages:delete", args=[self.source.pk])).content.decode()
        self.assertIn("以下译文（连同其子页面）将随本页一并删除", page)
        self.assertIn(self.hant.title, page)
        self.assertIn(self.en_copy.locale.get_display_name(), page)

    def test_deleting_a_source_deletes_its_translations(self):
        self.client.force_login(self.admin)
        hant_news = self.hant.get_parent()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("wagtailadmin_pages:delete", args=[self.source.pk]))
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Page.objects.filter(pk__in=[self.source.pk, self.hant.pk, self.en_copy.pk]).exists())
        self.assertEqual(self.get(f"/api/v2/pages/{self.hant.pk}/").status_code, 404)
        # only the page's own copies: their parents and the other article's copy stay
        self.assertTrue(Page.objects.filter(pk__in=[hant_news.pk, self.other_hant.pk], live=True).count() == 2)

    def test_deleting_a_source_with_one_of_its_copies_in_one_go(self):
        """As Wagtail's bulk delete does with pages it loaded first: no copy is live after the source's
        deletion, none is deleted from under the loop, all are gone after the commit."""
        pages = [Page.objects.get(pk=self.source.pk), Page.objects.get(pk=self.hant.pk)]
        with self.captureOnCommitCallbacks() as callbacks:
            pages[0].delete()
            self.assertFalse(Page.objects.get(pk=self.en_copy.pk).live)
            self.assertNotIn(self.en_copy.pk, public_ids())
            pages[1].delete()
        for callback in callbacks:
            callback()
        self.assertFalse(Page.objects.filter(pk__in=[self.hant.pk, self.en_copy.pk]).exists())

    def test_an_expired_source_takes_its_translations_with_it(self):
        Page.objects.filter(pk=self.source.pk).update(expire_at=timezone.now() - timedelta(minutes=1))
        # not public from the moment the source expires, before the scheduler has run
        self.assertTrue(Page.objects.get(pk=self.hant.pk).live)
        self.assertNotIn(self.hant.pk, public_ids())
        self.assertNotIn(self.en_copy.pk, public_ids())
        self.assertEqual(visibility.audience_of(self.hant), Audience.INTERNAL)
        self.assertEqual(self.get(self.hant.url).status_code, 404)
        call_command("publish_scheduled", stdout=io.StringIO())
        self.assertTrue(Page.objects.get(pk=self.source.pk).expired)
        for copy in self.copies():
            self.assertFalse(copy.live)
            self.assertTrue(PageLogEntry.objects.filter(page_id=copy.pk, action=WITHDRAWN_WITH_SOURCE).exists())
        self.assertIn(self.other_hant.pk, public_ids())

    def test_moving_a_source_into_a_members_only_section_makes_its_translations_members_only(self):
        section = ColumnPageFactory(parent=self.tree.home, slug="members-only", audience=Audience.MEMBERS)
        self.source.move(section, pos="last-child")
        cache.clear()
        hant = Page.objects.get(pk=self.hant.pk)
        self.assertNotIn(hant.pk, public_ids())
        self.assertNotIn(self.en_copy.pk, public_ids())
        self.assertEqual(visibility.audience_of(hant), Audience.MEMBERS)
        self.assertEqual(self.get(f"/api/v2/pages/{hant.pk}/").status_code, 404)
        response = self.get(hant.url)
        self.assertEqual(response.status_code, 302)
        self.assertIn("login", response["Location"])
        # members still read it, on the CMS and in the API
        self.client.force_login(self.member)
        self.assertEqual(self.get(hant.url, self.client).status_code, 200)
        self.assertEqual(self.get(f"/api/v2/pages/{hant.pk}/", self.member_api()).status_code, 200)
        self.assertIn(hant.pk, set(visibility.member_pages().values_list("pk", flat=True)))

    def test_moving_a_source_in_the_admin_moves_its_translations_to_the_translated_section(self):
        section = ColumnPageFactory(parent=self.tree.home, slug="members-only", audience=Audience.MEMBERS)
        hant_section = translate_chain(section, self.zh_hant)
        self.assertEqual(visibility.audience_of(hant_section), Audience.MEMBERS)
        self.client.force_login(self.admin)
        response = self.client.post(reverse("wagtailadmin_pages:move_confirm", args=[self.source.pk, section.pk]))
        self.assertEqual(response.status_code, 302)
        hant = Page.objects.get(pk=self.hant.pk)
        self.assertEqual(hant.get_parent().pk, hant_section.pk)
        self.assertNotIn(hant.pk, public_ids())
        self.assertEqual(visibility.audience_of(hant), Audience.MEMBERS)
        # en has no translated section: the copy stays where it was, and follows its source anyway
        self.assertNotIn(self.en_copy.pk, public_ids())

    def test_a_translation_unpublished_on_its_own_leaves_its_source_public(self):
        Page.objects.get(pk=self.hant.pk).specific.unpublish()
        self.assertNotIn(self.hant.pk, public_ids())
        self.assertTrue(Page.objects.get(pk=self.source.pk).live)
        self.assertIn(self.source.pk, public_ids())
        self.assertIn(self.en_copy.pk, public_ids())
        self.assertEqual(self.get(self.source.url).status_code, 200)
        self.assertEqual(self.get(f"/api/v2/pages/{self.source.pk}/").status_code, 200)

    def test_republishing_a_source_does_not_bring_its_translations_back_unless_traditional_sync_is_on(self):
        self.source.unpublish()
        source = Page.objects.get(pk=self.source.pk).specific
        with self.captureOnCommitCallbacks(execute=True):
            source.save_revision().publish()
        self.assertEqual([c.live for c in self.copies()], [False, False])
        self.assertNotIn(self.hant.pk, public_ids())
        source.unpublish()
        source = Page.objects.get(pk=self.source.pk).specific
        with self.settings(SHUYUAN_AUTO_TRADITIONAL=True), self.captureOnCommitCallbacks(execute=True):
            source.save_revision().publish()
        hant, en = self.copies()
        self.assertTrue(hant.live)  # the OpenCC copy is refreshed and published again
        self.assertFalse(en.live)  # other languages wait for an editor
        self.assertIn(hant.pk, public_ids())

    def test_a_restriction_on_the_source_reaches_copies_that_were_not_synced(self):
        # the en copy is not re-synced when the source changes: the rule alone keeps it in step
        source = Page.objects.get(pk=self.source.pk).specific
        source.audience = Audience.INTERNAL
        source.save_revision().publish()
        self.assertEqual(Page.objects.get(pk=self.en_copy.pk).specific.audience, Audience.PUBLIC)
        self.assertEqual(visibility.audience_of(self.en_copy), Audience.INTERNAL)
        self.assertNotIn(self.en_copy.pk, set(visibility.pages_visible_to(self.member).values_list("pk", flat=True)))
        self.assertEqual(self.get(f"/api/v2/pages/{self.en_copy.pk}/", self.member_api()).status_code, 404)
        self.assertEqual(self.get(self.en_copy.url).status_code, 302)
        self.assertEqual(assert_translations_no_wider_than_sources(self), 7)


class TranslationInvariantTests(TestCase):
    def test_no_translation_is_wider_than_its_source_over_generated_trees(self):
        from tests.api.trees import build_tree

        wider_by_itself = 0
        for seed in (7, 2024, 42):
            build_tree(seed)
            sources = {p.translation_key: p for p in Page.objects.filter(locale__language_code="zh-hans")}
            copies = Page.objects.filter(locale__language_code="zh-hant").specific()
            # the generated copies have random audiences and states of their own: some are wider than
            # their source, so the invariant below is not true by construction
            for copy in copies:
                source = sources[copy.translation_key]
                own = Audience.INTERNAL if not copy.live else Audience(copy.audience)
                if RANK[own] < RANK[visibility.audience_of(source)]:
                    wider_by_itself += 1
            self.assertGreater(assert_translations_no_wider_than_sources(self), 5)
        self.assertGreater(wider_by_itself, 0)


@override_settings(WAGTAILFRONTENDCACHE={})
class StaticSiteWithdrawalTests(TestCase):
    """One incremental ``publish_site`` after unpublishing a source removes its copies from the
    published folder, from their language's home page, sitemap and feeds."""

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)
        get_user_model().objects.create_superuser("admin", "", "pw")
        cls.zh_hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.source, cls.other = cls.tree.articles
        cls.hant = translate_chain(cls.source, cls.zh_hant)
        translate_chain(cls.source, cls.en)
        cls.en_copy = keep_strings(cls.source, cls.en)
        cls.other_hant = translate_chain(cls.other, cls.zh_hant)

    def test_one_publish_removes_the_copies_from_the_published_folder(self):
        from deploy.models import PublishRun
        from deploy.service import publish
        from deploy.targets import get_target

        folder = Path(tempfile.mkdtemp(prefix="shuyuan-withdrawal-"))
        storages = {**settings.STORAGES, "publish": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder), "base_url": "/"},
        }}
        auto = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": True}
        hant_news = self.hant.get_parent()
        copies = {
            self.hant: (f"zh-hant/news/{self.hant.slug}/index.html", "zh-hant", hant_news),
            self.en_copy: (f"en/news/{self.en_copy.slug}/index.html", "en", self.en_copy.get_parent()),
        }
        with self.settings(STORAGES=storages, SHUYUAN_PUBLISH=auto):
            publish(full=True, target=get_target())

            def read(path):
                file = folder / path
                return file.read_text() if file.exists() else None

            # before: the copies are published, listed, in the sitemap and the feeds
            for copy, (path, language, column) in copies.items():
                self.assertIsNotNone(read(path), path)
                self.assertIn(copy.url, read(f"{language}/index.html"))
                self.assertIn(copy.url, read(f"{language}/sitemap.xml"))
                self.assertIn(copy.url, read(f"{language}/feeds/{column.pk}/rss.xml"))
            runs = PublishRun.objects.count()

            self.source.unpublish()  # recorded as pending changes; the transaction never commits here
            call_command("publish_site", "--no-progress", "--no-wait", stdout=io.StringIO())

            self.assertEqual(PublishRun.objects.count(), runs + 1)
            for copy, (path, language, column) in copies.items():
                self.assertIsNone(read(path), path)
                for listing in (f"{language}/index.html", f"{language}/news/index.html", f"{language}/sitemap.xml",
                                f"{language}/feeds/{column.pk}/rss.xml", f"{language}/feeds/{column.pk}/atom.xml"):
                    self.assertNotIn(copy.url, read(listing), listing)
            self.assertIsNone(read(f"zh-hans/news/{self.source.slug}/index.html"))
            # the other article's copy stays published and listed
            self.assertIn(self.other_hant.url, read("zh-hant/index.html"))
            self.assertIsNotNone(read(f"zh-hant/news/{self.other_hant.slug}/index.html"))
