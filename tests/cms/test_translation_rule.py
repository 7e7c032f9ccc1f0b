"""A translation is published only when it is one (issue 15, languages).

An en copy wagtail-localize made but nobody translated is in no public output (static site, API,
search, CMS front end); once every string is translated and the copy published, the next publish puts
it on the site. zh-hant copies converted by OpenCC are translations. The language switcher leads to a
translation where one is readable, otherwise to that language's home with ``#untranslated``; hreflang
links name the readable translations and x-default. Bulk "translate and sync" translates a column
and everything below it as a background job. Negative checks first.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import GroupPagePermission, Locale, Page

from cms import bulk_translate, visibility
from cms.translation import completes_translation, translate_page, translate_strings
from cms.visibility import Audience
from search import indexing
from search.documents import document_id
from tests.api.helpers import ApiClient, token_for
from tests.factories import build_site

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def translate_chain(page, locale):
    """Translate ``page`` and its untranslated ancestors, one commit per editor action as in the admin."""
    for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
        if ancestor.get_translation_or_none(locale) is None or ancestor.pk == page.pk:
            with TestCase.captureOnCommitCallbacks(execute=True):
                translate_page(ancestor, locale)
    cache.clear()  # Wagtail caches the site's root paths per language
    return page.get_translation(locale).specific


def english(text: str) -> str:
    return f"EN {text}"


def complete_chain(page, locale):
    """A translator translates every string of ``page`` and its ancestors into ``locale`` and publishes."""
    for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
        with TestCase.captureOnCommitCallbacks(execute=True):
            translate_strings(ancestor.specific, locale, english)
    cache.clear()
    return page.get_translation(locale).specific


@override_settings(
    SHUYUAN_HIDE_UNTRANSLATED=True, SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None
)
class UntranslatedCopyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)
        cls.admin = get_user_model().objects.create_superuser("admin", "", "pw")
        cls.member = get_user_model().objects.create_user("member", "", "pw")
        cls.member.groups.add(visibility.members_group())
        cls.hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.article, cls.other = cls.tree.articles
        cls.hant_copy = translate_chain(cls.article, cls.hant)
        cls.en_copy = translate_chain(cls.article, cls.en)
        cls.other_en = translate_chain(cls.other, cls.en)

    def get(self, url, client=None):
        return (client or Client()).get(url, HTTP_HOST="localhost")

    def search_ids(self, query, locale):
        data = self.get(f"/api/v2/search/?q={query}&locale={locale}&page_size=50").json()
        return {r["id"] for r in data["results"]}

    def test_an_untranslated_en_copy_is_in_no_public_output(self):
        copy, en_news, en_home = self.en_copy, self.en_copy.get_parent(), self.en_copy.get_parent().get_parent()
        self.assertTrue(copy.live and en_news.live and en_home.live)  # wagtail-localize published the copies
        self.assertEqual(copy.title, self.article.title)  # Chinese text under English navigation
        for page in (copy, en_news, en_home):
            self.assertFalse(visibility.is_translated(page), page)
            self.assertNotIn(page.pk, set(visibility.public_pages().values_list("pk", flat=True)))
            self.assertNotIn(page.pk, set(visibility.member_pages().values_list("pk", flat=True)))
            self.assertEqual(visibility.audience_of(page), Audience.INTERNAL)
            self.assertIsNone(visibility.source_restrictions(page))
        # the API: no detail, in no listing, not named as a translation (for members neither)
        member = ApiClient(token_for(self.member))
        for client in (None, member):
            self.assertEqual(self.get(f"/api/v2/pages/{copy.pk}/", client).status_code, 404)
            listed = self.get("/api/v2/pages/?locale=en&limit=50", client).json()["items"]
            self.assertEqual(listed, [])
            named = self.get(f"/api/v2/pages/{self.article.pk}/", client).json()["translations"]
            self.assertEqual([t["locale"] for t in named], ["zh-hant"])
        # the CMS front end
        self.assertEqual(self.get(copy.url).status_code, 404)
        # search
        indexing.rebuild()
        self.assertNotIn(document_id(copy.pk), self.search_ids(self.article.title, "en"))
        self.assertIn(document_id(self.hant_copy.pk), self.search_ids(self.hant_copy.title, "zh-hant"))

    def test_the_opencc_copy_is_a_translation_and_stays_public(self):
        self.assertTrue(visibility.is_translated(self.hant_copy))
        self.assertTrue(visibility.is_translated(self.article))
        self.assertEqual(visibility.audience_of(self.hant_copy), Audience.PUBLIC)
        self.assertEqual(self.get(self.hant_copy.url).status_code, 200)
        self.assertEqual(self.get(f"/api/v2/pages/{self.hant_copy.pk}/").status_code, 200)

    def test_a_partly_translated_copy_is_still_untranslated(self):
        complete_chain(self.tree.news, self.en)  # the home and the column are done
        title_only = {self.article.title: english(self.article.title)}
        with self.captureOnCommitCallbacks(execute=True):
            translate_strings(self.article, self.en, title_only)
        self.assertFalse(visibility.is_translated(self.en_copy))
        self.assertNotIn(self.en_copy.pk, set(visibility.public_pages().values_list("pk", flat=True)))
        self.assertIn(self.en_copy.get_parent().pk, set(visibility.public_pages().values_list("pk", flat=True)))

    def test_below_an_untranslated_column_nothing_is_public(self):
        with self.captureOnCommitCallbacks(execute=True):
            translate_strings(self.article, self.en, english)  # the article is done, its column is not
        self.assertTrue(visibility.is_translated(Page.objects.get(pk=self.en_copy.pk)))
        self.assertNotIn(self.en_copy.pk, set(visibility.public_pages().values_list("pk", flat=True)))
        self.assertEqual(visibility.audience_of(self.en_copy), Audience.INTERNAL)

    def test_the_rule_names_many_copies_in_sql(self):
        named = set(visibility.public_pages().values_list("pk", flat=True))
        with mock.patch.object(visibility, "MAX_NAMED_UNTRANSLATED", 1):
            in_sql = set(visibility.public_pages().values_list("pk", flat=True))
        self.assertEqual(named, in_sql)
        self.assertNotIn(self.en_copy.pk, in_sql)

    def test_the_rule_asks_one_query_for_all_copies(self):
        def cost():
            with CaptureQueriesContext(connection) as ctx:
                list(visibility.public_pages().values_list("pk", flat=True))
            return len(ctx.captured_queries)

        on = cost()
        with self.settings(SHUYUAN_HIDE_UNTRANSLATED=False):
            off = cost()
        self.assertEqual(on, off + 1)

    def test_a_completed_translation_is_public_and_its_publish_reappears_below_it(self):
        self.assertTrue(completes_translation(self.en_copy.get_parent()))  # an en column: its publish may complete it
        self.assertFalse(completes_translation(self.hant_copy.get_parent()))  # OpenCC: never hidden
        self.assertFalse(completes_translation(self.tree.news))
        copy = complete_chain(self.article, self.en)
        self.assertEqual(copy.title, english(self.article.title))
        self.assertTrue(visibility.is_translated(copy))
        self.assertEqual(visibility.audience_of(copy), Audience.PUBLIC)
        self.assertIn(copy.pk, set(visibility.public_pages().values_list("pk", flat=True)))
        self.assertNotIn(self.other_en.pk, set(visibility.public_pages().values_list("pk", flat=True)))
        self.assertEqual(self.get(f"/api/v2/pages/{copy.pk}/").status_code, 200)
        # a source edit that adds strings makes it untranslated again once the source is re-synced
        self.article.title = "新的标题"
        self.article.save_revision().publish()
        with self.captureOnCommitCallbacks(execute=True):
            translate_page(self.article, self.en)
        self.assertFalse(visibility.is_translated(Page.objects.get(pk=copy.pk)))

    def test_the_static_site_leaves_the_copy_out_until_it_is_translated(self):
        from deploy.service import publish
        from deploy.targets import get_target

        folder = Path(tempfile.mkdtemp(prefix="shuyuan-translation-rule-"))
        storages = {**settings.STORAGES, "publish": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder), "base_url": "/"},
        }}
        auto = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": True}
        en_path = f"en/news/{self.en_copy.slug}/index.html"
        hant_path = f"zh-hant/news/{self.hant_copy.slug}/index.html"

        def read(path):
            file = folder / path
            return file.read_text() if file.exists() else None

        with self.settings(STORAGES=storages, SHUYUAN_PUBLISH=auto):
            publish(full=True, target=get_target())
            self.assertIsNone(read(en_path))
            self.assertIsNone(read("en/index.html"))
            self.assertIsNone(read("en/sitemap.xml"))
            self.assertNotIn("/en/", read("sitemap.xml") or "")
            self.assertIsNotNone(read(hant_path))
            self.assertNotIn('<link rel="alternate" hreflang="en"', read(hant_path))

            copy = complete_chain(self.article, self.en)  # recorded as pending changes, as an editor's publish is
            call_command("publish_site", "--no-progress", "--no-wait", stdout=io.StringIO())

            en_path = f"{copy.url.strip('/')}/index.html"  # the slugs are translated too
            html = read(en_path)
            self.assertIsNotNone(html, en_path)
            self.assertIn(english(self.article.title), html)
            self.assertIn(copy.url, read("en/sitemap.xml"))
            column = copy.get_parent()
            self.assertIsNone(read(f"{column.url.strip('/')}/{self.other_en.slug}/index.html"))  # still untranslated
            self.assertNotIn(self.other_en.slug, read(f"{column.url.strip('/')}/index.html"))


@override_settings(SHUYUAN_HIDE_UNTRANSLATED=True)
class LanguageLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)
        get_user_model().objects.create_superuser("admin", "", "pw")
        cls.hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.article, cls.other = cls.tree.articles
        cls.hant_copy = translate_chain(cls.article, cls.hant)
        translate_chain(cls.article, cls.en)
        cls.en_copy = complete_chain(cls.article, cls.en)
        cls.other_en = translate_chain(cls.other, cls.en)  # an untranslated copy

    def render(self, source, page):
        request = RequestFactory().get("/", HTTP_HOST="localhost")
        request.user = AnonymousUser()
        return Template("{% load language_tags %}" + source).render(Context({"page": page, "request": request}))

    def test_the_switcher_leads_to_the_home_with_a_note_where_there_is_no_translation(self):
        html = self.render('{% include "includes/language_switcher.html" %}', self.other)
        en_home = self.en_copy.get_parent().get_parent()
        self.assertIn(f'href="{en_home.url}#untranslated"', html)
        self.assertNotIn(self.other_en.url, html)
        hant_home = self.hant_copy.get_parent().get_parent()
        self.assertIn(f'href="{hant_home.url}#untranslated"', html)  # the other article has no zh-hant copy
        self.assertNotIn("data-lang-note", html)  # the note lives on homes only

    def test_the_switcher_leads_to_the_translation_where_there_is_one(self):
        html = self.render('{% include "includes/language_switcher.html" %}', self.article)
        self.assertIn(f'href="{self.en_copy.url}"', html)
        self.assertIn(f'href="{self.hant_copy.url}"', html)
        self.assertNotIn("#untranslated", html)
        home_html = self.render('{% include "includes/language_switcher.html" %}', self.en_copy.get_parent().get_parent())
        self.assertIn('id="untranslated"', home_html)
        self.assertIn("has not been translated into English", home_html)
        self.assertIn("site_theme/lang-note.js", home_html)

    @override_settings(SHUYUAN_PUBLISH={"BASE_URL": "https://www.site.test"})
    def test_hreflang_names_the_readable_translations_and_x_default(self):
        html = self.render('{% include "includes/hreflang.html" %}', self.article)
        for code, url in (("zh-hans", self.article.url), ("zh-hant", self.hant_copy.url), ("en", self.en_copy.url),
                          ("x-default", self.article.url)):
            self.assertIn(f'hreflang="{code}" href="https://www.site.test{url}"', html)  # absolute, as search engines want
        html = self.render('{% include "includes/hreflang.html" %}', self.other)
        self.assertEqual(html.strip(), "")  # no readable translation: no alternates

    def test_switcher_script_is_a_static_file(self):
        script = Path(settings.BASE_DIR) / "site_theme/static/site_theme/lang-note.js"
        self.assertIn("#untranslated", script.read_text())


class RuleSwitchTests(TestCase):
    """With ``SHUYUAN_HIDE_UNTRANSLATED`` off (it is on by default) the rule is as before: an untranslated
    copy follows its source."""

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=1)
        get_user_model().objects.create_superuser("admin", "", "pw")
        cls.en = Locale.objects.create(language_code="en")
        cls.en_copy = translate_chain(cls.tree.articles[0], cls.en)

    def test_off_keeps_untranslated_copies_and_on_hides_them(self):
        with self.settings(SHUYUAN_HIDE_UNTRANSLATED=False):
            self.assertIn(self.en_copy.pk, set(visibility.public_pages().values_list("pk", flat=True)))
        with self.settings(SHUYUAN_HIDE_UNTRANSLATED=True):
            self.assertNotIn(self.en_copy.pk, set(visibility.public_pages().values_list("pk", flat=True)))

    def test_a_bad_setting_is_refused(self):
        with self.settings(SHUYUAN_HIDE_UNTRANSLATED="yes"), self.assertRaises(ImproperlyConfigured):
            visibility.public_pages()


@override_settings(SHUYUAN_HIDE_UNTRANSLATED=True)
class BulkTranslateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=2)
        cls.admin = get_user_model().objects.create_superuser("admin", "", "pw")
        cls.hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.editor = get_user_model().objects.create_user("editor", "", "pw")
        editors = Group.objects.create(name="column editors")
        editors.permissions.add(Permission.objects.get(codename="access_admin"))
        GroupPagePermission.objects.create(group=editors, page=cls.tree.news, permission_type="change")
        cls.editor.groups.add(editors)

    def test_a_user_who_may_not_translate_is_refused(self):
        self.assertFalse(bulk_translate.may_translate(self.editor, self.tree.news))  # no submit_translation
        self.assertEqual(list(bulk_translate.header_buttons(self.tree.news, self.editor)), [])
        result = bulk_translate.translate_column.enqueue(self.tree.news.pk, self.hant.pk, self.editor.pk)
        self.assertEqual(result.return_value, {"state": "refused"})
        self.assertFalse(Page.objects.filter(locale=self.hant).exists())
        self.client.force_login(self.editor)
        # the admin's own refusal (cms/wagtail_hooks.py registers the view): back to the dashboard
        response = self.client.get(f"/admin/bulk-translate/{self.tree.news.pk}/")
        self.assertEqual((response.status_code, response.get("Location")), (302, "/admin/"))

    def test_translate_and_sync_a_column_into_zh_hant(self):
        self.assertTrue(bulk_translate.may_translate(self.admin, self.tree.news))
        result = bulk_translate.translate_column.enqueue(self.tree.news.pk, self.hant.pk, self.admin.pk)
        column = [self.tree.news, *Page.objects.descendant_of(self.tree.news)]
        self.assertEqual(result.return_value["failed"], [])
        self.assertEqual(result.return_value["total"], len(column) + 1)  # the home first
        self.assertEqual(result.return_value["untranslated"], 0)
        for page in column:
            copy = page.get_translation(self.hant)
            self.assertTrue(visibility.is_translated(copy), copy)
        state = bulk_translate.progress(str(result.id))
        self.assertEqual((state["state"], state["done"], state["total"]), ("done", len(column) + 1, len(column) + 1))
        # en: synced copies, untranslated until a translator works through them (and so not public)
        result = bulk_translate.translate_column.enqueue(self.tree.news.pk, self.en.pk, self.admin.pk)
        self.assertEqual(result.return_value["translated"], 0)
        public = set(visibility.public_pages().values_list("pk", flat=True))
        self.assertFalse(public & set(Page.objects.filter(locale=self.en).values_list("pk", flat=True)))

    def test_the_admin_form_starts_the_job_and_shows_its_progress(self):
        self.client.force_login(self.admin)
        url = f"/admin/bulk-translate/{self.tree.news.pk}/"
        self.assertEqual([b.url for b in bulk_translate.header_buttons(self.tree.news, self.admin)], [url])
        self.assertEqual(list(bulk_translate.header_buttons(self.tree.articles[0], self.admin)), [])  # no children
        page = self.client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "翻译并同步整个栏目")
        response = self.client.post(url, {"locale": self.hant.pk})
        self.assertEqual(response.status_code, 302)
        job = response["Location"].split("job=")[1]
        self.assertContains(self.client.get(response["Location"]), "翻译进度")
        data = self.client.get(f"/admin/bulk-translate/progress/{job}/").json()
        self.assertEqual(data["state"], "done")
        self.client.force_login(self.editor)  # another editor: not theirs to read
        other = self.client.get(f"/admin/bulk-translate/progress/{job}/")
        self.assertIn(other.status_code, (302, 403, 404))


def test_a_bad_setting_stops_start_up():
    from django.core import checks

    with override_settings(SHUYUAN_HIDE_UNTRANSLATED="yes"):
        assert "shuyuan.E102" in {e.id for e in checks.run_checks()}
    assert "shuyuan.E102" not in {e.id for e in checks.run_checks()}
