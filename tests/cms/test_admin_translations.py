"""The Wagtail admin is entirely in Simplified Chinese.

Wagtail 8's (and wagtail-localize's) zh_Hans catalogs leave a few hundred strings in English;
cms/locale/zh_Hans/LC_MESSAGES translates them. These tests resolve every msgid of the English source
catalogs the way Django does for zh-hans, check that cms/locale keeps placeholders and markup intact,
and look at admin pages that used to show English.
"""

import gettext
import json
import re
from pathlib import Path

import polib
import wagtail
import wagtail_localize
from django.apps import apps
from django.conf import settings
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

from tests.factories import EditorSiteMixin

CMS_LOCALE = Path(settings.BASE_DIR) / "cms" / "locale" / "zh_Hans" / "LC_MESSAGES"
PACKAGES = {
    Path(wagtail.__file__).parent: "wagtail",
    Path(wagtail_localize.__file__).parent: "wagtail_localize",
}

# msgids whose Chinese is rightly the same as the English: product names and abbreviations
# (Wagtail's own zh_Hans catalogs translate these to themselves too).
SAME_IN_CHINESE = {"Wagtail API v2", "Wagtail API v3", "URL", "ID"}

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")
TAG = re.compile(r"</?([a-zA-Z]+)[^>]*>")


def placeholders(text):
    return sorted(
        m.group(0) if not m.group(1) else f"%({m.group(1)})" + m.group(0)[-1]
        for m in PLACEHOLDER.finditer(text)
    )


def needs_translation(entry):
    """False for msgids that are only placeholders, markup and punctuation, or product names."""
    text = TAG.sub("", PLACEHOLDER.sub("", entry.msgid + (entry.msgid_plural or "")))
    return re.search(r"[A-Za-z]", text) is not None and entry.msgid not in SAME_IN_CHINESE


def english_catalogs(domain):
    """(python package, English .po) for every catalog Wagtail and wagtail-localize ship."""
    for root, top in PACKAGES.items():
        for po_path in sorted(root.glob(f"**/locale/en/LC_MESSAGES/{domain}.po")):
            package = ".".join([top, *po_path.relative_to(root).parts[:-4]])
            yield package, po_path


def live_entries(po_path):
    return [e for e in polib.pofile(str(po_path)) if e.msgid and not e.obsolete and needs_translation(e)]


def zh_hans_resolver(package, po_path):
    """Django's own zh-hans lookups for installed apps. The few contrib apps this project does not install
    (search promotions, simple translation, styleguide, typed table block) are never shown, but
    cms/locale covers their gaps too: check them against their own zh_Hans catalog plus cms/locale."""
    if apps.is_installed(package):
        return translation
    resolver = gettext.translation("django", CMS_LOCALE.parents[1], languages=["zh_Hans"])
    resolver.add_fallback(
        gettext.translation("django", po_path.parents[2], languages=["zh_Hans"], fallback=True)
    )
    return resolver


def describe(package, entry, got):
    context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
    return f"{package}: {context}{entry.msgid!r} -> {got!r}"


class CatalogCoverageTests(SimpleTestCase):
    def test_every_wagtail_string_is_translated_in_chinese(self):
        failures, checked = [], 0
        with translation.override("zh-hans"):
            for package, po_path in english_catalogs("django"):
                zh = zh_hans_resolver(package, po_path)
                for entry in live_entries(po_path):
                    checked += 1
                    if entry.msgid_plural:
                        for n, english in ((1, entry.msgid), (2, entry.msgid_plural)):
                            if entry.msgctxt:
                                got = zh.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                            else:
                                got = zh.ngettext(entry.msgid, entry.msgid_plural, n)
                            if got == english:
                                failures.append(describe(package, entry, got))
                                break
                    else:
                        if entry.msgctxt:
                            got = zh.pgettext(entry.msgctxt, entry.msgid)
                        else:
                            got = zh.gettext(entry.msgid)
                        if got == entry.msgid:
                            failures.append(describe(package, entry, got))
        self.assertGreater(checked, 1500)
        self.assertFalse(
            failures, f"{len(failures)} of {checked} strings are still English:\n" + "\n".join(failures)
        )

    def test_every_wagtail_javascript_string_is_translated_in_chinese(self):
        """The admin's JavaScriptCatalog (per package) merges LOCALE_PATHS, so cms/locale's djangojs counts."""
        failures, checked = [], 0
        for package, po_path in english_catalogs("djangojs"):
            view = JavaScriptCatalog(packages=[package])
            view.translation = DjangoTranslation(
                "zh-hans", domain="djangojs", localedirs=view.get_paths([package])
            )
            catalog = view.get_catalog()  # what the browser receives
            for entry in live_entries(po_path):
                checked += 1
                key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
                got = catalog.get(key)
                if entry.msgid_plural:
                    if not got or got[0] in (entry.msgid, entry.msgid_plural):
                        failures.append(describe(package, entry, got))
                elif not got or got == entry.msgid:
                    failures.append(describe(package, entry, got))
        self.assertGreater(checked, 100)
        self.assertFalse(
            failures, f"{len(failures)} of {checked} JS strings are still English:\n" + "\n".join(failures)
        )


class ProjectCatalogTests(SimpleTestCase):
    def test_placeholders_and_markup_match_the_msgid(self):
        failures = []
        for name in ("django.po", "djangojs.po"):
            for entry in polib.pofile(str(CMS_LOCALE / name)):
                if not entry.msgid or entry.obsolete:
                    continue
                source = entry.msgid_plural or entry.msgid
                translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
                for text in translations:
                    if not text:
                        failures.append(f"{name}: {entry.msgid!r} is untranslated")
                    elif placeholders(text) != placeholders(source):
                        failures.append(f"{name}: {entry.msgid!r} placeholders {placeholders(text)}")
                    elif sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
                        failures.append(f"{name}: {entry.msgid!r} markup differs: {text!r}")
        self.assertFalse(failures, "\n".join(failures))

    def test_catalogs_are_compiled_and_use_wagtails_plural_forms(self):
        wagtail_zh = polib.pofile(
            str(Path(wagtail.__file__).parent / "admin/locale/zh_Hans/LC_MESSAGES/django.po")
        )
        for name in ("django", "djangojs"):
            po = polib.pofile(str(CMS_LOCALE / f"{name}.po"))
            self.assertEqual(po.metadata["Plural-Forms"], wagtail_zh.metadata["Plural-Forms"])
            compiled = {
                (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
                for e in polib.mofile(str(CMS_LOCALE / f"{name}.mo"))
            }
            source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in po.translated_entries()}
            compiled.pop((None, ""), None)
            self.assertEqual(compiled, source, f"{name}.mo is stale: recompile {name}.po")


class AdminPagesInChineseTests(EditorSiteMixin, TestCase):
    """Pages whose English strings were verified before cms/locale translated them."""

    def assertChinese(self, url, chinese, english):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        for text in chinese:
            self.assertContains(response, text, msg_prefix=url)
        for text in english:
            self.assertNotContains(response, text, msg_prefix=url)

    def test_page_explorer(self):
        self.assertChinese(
            reverse("wagtailadmin_explore", args=[self.tree.home.id]),
            ["更新日期", "有子页面", "显示键盘快捷键", "添加或显示评论"],
            ["Date updated", "Has child pages", "Show keyboard shortcuts", "Add or show comments"],
        )

    def test_page_edit_view(self):
        self.assertChinese(
            reverse("wagtailadmin_pages:edit", args=[self.tree.articles[0].id]),
            ["内容指标", "阅读时间", "计划发布", "选择此页面的上线和/或过期时间"],
            ["Content metrics", "Reading time", "Schedule to publish", "should go live and/or expire"],
        )

    def test_users_list(self):
        self.assertChinese(
            reverse("wagtailusers_users:index"), ["升序排序"], ["in ascending order", "in descending order"]
        )

    def test_images_index(self):
        self.assertChinese(
            reverse("wagtailimages:index"),
            ["网格布局", "列表布局", "使用次数：（从高到低）"],
            ["Grid layout", "List layout", "Usage count: (high to low)"],
        )

    def test_admin_javascript_catalog(self):
        response = self.client.get(reverse("wagtailadmin_javascript_catalog"))
        self.assertEqual(response.status_code, 200)
        catalog = json.loads(
            re.search(r"const newcatalog = (\{.*?\});", response.content.decode(), re.S).group(1)
        )
        self.assertEqual(catalog["Autosave in progress…"], "正在自动保存…")
        self.assertEqual(catalog["%(num)s error"], ["%(num)s 个错误"])
