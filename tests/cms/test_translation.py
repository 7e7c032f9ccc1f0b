"""Translations through wagtail-localize: zh-hant converted by OpenCC, en as synced copies."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import TestCase
from wagtail.models import Locale

from cms import visibility
from cms.translation import to_simplified, to_traditional, translate_page, translate_strings
from cms.visibility import Audience
from tests.factories import build_site


class TranslationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=1)
        get_user_model().objects.create_superuser("admin", "", "pw")
        cls.hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")

    def translate_chain(self, page, locale):
        # wagtail-localize publishes on transaction commit: one commit per editor action, as in the admin.
        for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
            with self.captureOnCommitCallbacks(execute=True):
                translate_page(ancestor, locale)
        cache.clear()  # Wagtail caches the site's root paths per language
        return page.get_translation(locale).specific

    def test_zh_hant_copy_is_converted_and_published_under_its_language_prefix(self):
        article = self.tree.articles[0]
        article.title = "党建信息化学习资料"
        article.save_revision().publish()
        copy = self.translate_chain(article, self.hant)
        self.assertEqual(copy.locale, self.hant)
        self.assertEqual(copy.title, "黨建信息化學習資料")
        self.assertTrue(copy.live)
        self.assertTrue(copy.url.startswith("/zh-hant/"))
        html = self.client.get(copy.url, HTTP_HOST="localhost").content.decode()
        self.assertIn("黨建信息化學習資料", html)
        self.assertIn('hreflang="zh-hans"', html)
        self.assertIn('lang="zh-hant"', html)

    def test_en_copy_exists_and_keeps_the_source_until_translated(self):
        article = self.tree.articles[0]
        copy = self.translate_chain(article, self.en)
        self.assertEqual(copy.locale, self.en)
        self.assertEqual(copy.title, article.title)
        self.assertTrue(copy.url.startswith("/en/"))

    def test_translations_keep_the_audience_restriction(self):
        self.translate_chain(self.tree.members_article, self.en)
        for page in self.tree.members_article.get_ancestors(inclusive=True).filter(depth__gt=1):
            with self.captureOnCommitCallbacks(execute=True):  # a translator's work: the copy is a translation
                translate_strings(page.specific, self.en, lambda text: f"EN {text}")
        copy = self.tree.members_article.get_translation(self.en).specific
        self.assertEqual(copy.audience, Audience.MEMBERS)
        self.assertEqual(visibility.audience_of(copy), Audience.MEMBERS)

    def test_publishing_a_source_page_refreshes_its_traditional_copy(self):
        article = self.tree.articles[0]
        self.translate_chain(article, self.hant)
        article.title = "主题党日活动通知"
        with self.settings(SHUYUAN_AUTO_TRADITIONAL=True), self.captureOnCommitCallbacks(execute=True):
            article.save_revision().publish()
        self.assertEqual(article.get_translation(self.hant).title, "主題黨日活動通知")

    def test_opencc_round_trip(self):
        self.assertEqual(to_traditional("党建书苑"), "黨建書苑")
        self.assertEqual(to_simplified("黨建書苑"), "党建书苑")
