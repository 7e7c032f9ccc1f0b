"""Golden files: the exact responses of each endpoint and each page type on a fixed site.

A deliberate change to the API shows up as a diff of ``tests/api/golden/*.json``; regenerate with
``UPDATE_GOLDEN=1 pytest tests/api/test_golden.py`` (a missing golden file fails the test until then).
Ids, block uuids, media file URLs, tokens, search scores and creation times vary between runs and are
replaced by stable labels before comparing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from django.core.cache import cache
from django.test import TestCase, override_settings

from cms import visibility
from cms.api.models import ACCESS_PREFIX, REFRESH_PREFIX
from search import indexing

from .golden_site import build_golden_site
from .helpers import ApiClient, make_user, token_for

GOLDEN = Path(__file__).with_name("golden")
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/pytest tests/api/test_golden.py"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MEDIA = re.compile(r"http://[^\"']*/media/[^\"']*")


class Normaliser:
    def __init__(self, site):
        self.pages = {p.pk: p.slug for p in site.values() if hasattr(p, "slug")}
        self.images = {i.pk: i.title for i in site["images"]}
        self.documents = {d.pk: d.title for d in site["documents"]}

    def label(self, kind: str, pk: int) -> str:
        table = {"pages": self.pages, "images": self.images, "documents": self.documents}[kind]
        return f"<{kind[:-1]}:{table.get(pk, '?')}>"

    def text(self, value: str) -> str:
        value = MEDIA.sub("<media-url>", value)
        for kind in ("pages", "images", "documents"):
            value = re.sub(rf"/api/v2/{kind}/(\d+)/", lambda m, k=kind: f"/api/v2/{k}/{self.label(k, int(m[1]))}/", value)
        # a document's own download view (a search hit's url and html_url)
        value = re.sub(r"(?<!/api/v2)/documents/(\d+)/", lambda m: f"/documents/{self.label('documents', int(m[1]))}/", value)
        value = re.sub(r'data-page-id="(\d+)"', lambda m: f'data-page-id="{self.label("pages", int(m[1]))}"', value)
        return re.sub(
            r'data-document-id="(\d+)"', lambda m: f'data-document-id="{self.label("documents", int(m[1]))}"', value
        )

    def __call__(self, value, kind=None):
        if isinstance(value, dict):
            meta_type = (value.get("meta") or {}).get("type", "") if isinstance(value.get("meta"), dict) else ""
            if meta_type == "media.ShuyuanImage":
                kind = "images"
            elif meta_type == "media.ShuyuanDocument":
                kind = "documents"
            elif meta_type.startswith("cms.") or meta_type == "wagtailcore.Page":
                kind = "pages"
            else:
                kind = None
            if kind is None and "/api/v2/pages/" in str(value.get("detail_url", "")):
                kind = "pages"  # a page reference without meta (translations)
            out = {}
            for key, item in value.items():
                if key == "id" and isinstance(item, int):
                    out[key] = self.label(kind, item) if kind else "<id>"
                elif key == "id" and isinstance(item, str) and re.fullmatch(r"page:\d+", item):
                    out[key] = "page:" + self.label("pages", int(item[5:]))  # a search result
                elif key == "id" and isinstance(item, str) and re.fullmatch(r"document:\d+", item):
                    out[key] = "document:" + self.label("documents", int(item[9:]))  # a document's own search hit
                elif key in ("log_id", "revision") and item is not None:
                    out[key] = "<id>"
                elif key == "created_at":
                    out[key] = "<datetime>"
                elif key == "score" and isinstance(item, int | float):
                    out[key] = "<score>"  # ranking is the search app's to tune; the order still counts
                elif key in ("access_token", "refresh_token") and isinstance(item, str):
                    out[key] = next((p for p in (ACCESS_PREFIX, REFRESH_PREFIX) if item.startswith(p)), "") + "<token>"
                else:
                    out[key] = self(item)
            return out
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return "<uuid>" if UUID.match(value) else self.text(value)
        return value


def compare_with_golden(test: TestCase, name: str, actual) -> None:
    """Compare ``actual`` with ``golden/<name>.json``; ``UPDATE_GOLDEN=1`` (re)writes the file instead.

    A missing file is a failure, not a silent first write: a golden file that nobody reviewed proves
    nothing, and a renamed check must not pass by writing a fresh copy of whatever it returns now.
    """
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not path.exists():
        test.fail(f"{name}: golden file {path} is missing; review the response and write it with: {REGENERATE}")
    expected = json.loads(path.read_text(encoding="utf-8"))
    test.assertEqual(actual, expected, f"{name}: response differs from {path.name} (if intended: {REGENERATE})")


@override_settings(
    SHUYUAN_API=NO_LIMITS,
    WAGTAILAPI_BASE_URL="http://api.test",
    SHUYUAN_PUBLISH={"BASE_URL": "https://www.site.test"},
    SHUYUAN_SEARCH=IN_MEMORY_SEARCH,
    SHUYUAN_SEARCH_RATE_LIMIT=None,
)
class GoldenTests(TestCase):
    maxDiff = None

    @classmethod
    def setUpTestData(cls):
        cls.site = build_golden_site()
        cls.member = make_user("golden-member", visibility.members_group())
        cls.member_token = token_for(cls.member)

    def check(self, name: str, url: str, status: int = 200, token: str | None = None, post: dict | None = None):
        client = ApiClient(token)
        response = client.get(url) if post is None else client.post(url, post, content_type="application/json")
        self.assertEqual(response.status_code, status, response.content[:300])
        actual = Normaliser(self.site)(response.json())
        compare_with_golden(self, name, actual)
        return response.json()

    def test_page_types(self):
        for key in ("home", "news", "article", "library", "material", "exhibition", "red", "red_site"):
            with self.subTest(page=key):
                self.check(f"page-{key}", f"/api/v2/pages/{self.site[key].pk}/")

    def test_listings(self):
        self.check("pages", "/api/v2/pages/")
        self.check("pages-articles-full", "/api/v2/pages/?type=cms.ArticlePage&fields=*&order=date")
        self.check("pages-materials-by-topic", "/api/v2/pages/?type=cms.StudyMaterialPage&fields=*&topic=rules")
        self.check("pages-red-by-province", "/api/v2/pages/?type=cms.RedExhibitionPage&fields=*&province=shanghai")
        self.check("images", "/api/v2/images/?fields=*")
        self.check("image", f"/api/v2/images/{self.site['images'][0].pk}/")
        self.check("documents", "/api/v2/documents/?fields=*")
        self.check("document", f"/api/v2/documents/{self.site['documents'][0].pk}/")

    def test_translations(self):
        site = self.site
        self.check("page-article-zh-hant", f"/api/v2/pages/{site['article_zh-hant'].pk}/")
        self.check("pages-translation-of-article", f"/api/v2/pages/?translation_of={site['article'].pk}&fields=translations")
        self.check(
            "member-pages-translation-of-article",
            f"/api/v2/pages/?translation_of={site['article'].pk}&fields=translations",
            token=self.member_token,
        )

    def test_members(self):
        token = self.member_token
        self.check("member-pages-articles", "/api/v2/pages/?type=cms.ArticlePage&fields=title,audience&order=date", token=token)
        self.check("member-page-article", f"/api/v2/pages/{self.site['article'].pk}/", token=token)
        self.check("member-documents", "/api/v2/documents/", token=token)
        self.check("member-me", "/api/v2/auth/me/", token=token)

    def test_errors(self):
        self.check("error-400", "/api/v2/pages/?province=atlantis", status=400)
        self.check("error-404", f"/api/v2/pages/{self.site['internal'].pk}/", status=404)
        self.check("error-401", "/api/v2/pages/", status=401, token="sya_wrong")

    def test_search(self):
        cache.clear()
        indexing.rebuild()
        self.check("search", "/api/v2/search/?q=示范文章")
        self.check("search-filtered", "/api/v2/search/?q=书苑&kind=material&kind=article&sort=date&page_size=5")
        self.check("search-empty-q", "/api/v2/search/?q=%20")
        self.check("member-search", "/api/v2/search/?q=会员文章&locale=zh-hans", token=self.member_token)
        self.check("search-error-400", "/api/v2/search/?q=书苑&page=0", status=400)

    def test_auth_tokens(self):
        password = "pw-golden-member"
        pair = self.check("auth-token", "/api/v2/auth/token/", post={"username": "golden-member", "password": password})
        refreshed = self.check("auth-token-refresh", "/api/v2/auth/token/refresh/", post={"refresh_token": pair["refresh_token"]})
        self.check("auth-token-revoke", "/api/v2/auth/token/revoke/", post={"token": refreshed["access_token"]})
        self.check("auth-token-error-401", "/api/v2/auth/token/", status=401, post={"username": "golden-member", "password": "x"})
        self.check("auth-token-error-400", "/api/v2/auth/token/", status=400, post={"username": "golden-member"})
        self.check("auth-token-refresh-error-401", "/api/v2/auth/token/refresh/", status=401,
                   post={"refresh_token": pair["refresh_token"]})


class MissingGoldenTests(TestCase):
    def test_a_missing_golden_file_fails_and_says_how_to_write_it(self):
        name = "no-such-golden-file"
        self.assertFalse((GOLDEN / f"{name}.json").exists())
        if os.environ.get("UPDATE_GOLDEN"):
            self.skipTest("UPDATE_GOLDEN=1 writes golden files instead of checking them")
        with self.assertRaises(AssertionError) as caught:
            compare_with_golden(self, name, {"any": "thing"})
        self.assertIn("UPDATE_GOLDEN=1", str(caught.exception))
        self.assertFalse((GOLDEN / f"{name}.json").exists())
