"""Golden files: the exact responses of each endpoint and each page type on a fixed site.

A deliberate change to the API shows up as a diff of ``tests/api/golden/*.json``; regenerate with
``UPDATE_GOLDEN=1 pytest tests/api/test_golden.py``. Ids, block uuids and media file URLs vary between
runs and are replaced by stable labels before comparing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from django.test import TestCase, override_settings

from cms import visibility

from .golden_site import build_golden_site
from .helpers import ApiClient, make_user, token_for

GOLDEN = Path(__file__).with_name("golden")
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
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
            out = {}
            for key, item in value.items():
                if key == "id" and isinstance(item, int):
                    out[key] = self.label(kind, item) if kind else "<id>"
                elif key in ("log_id", "revision"):
                    out[key] = "<id>"
                elif key == "created_at":
                    out[key] = "<datetime>"
                else:
                    out[key] = self(item)
            return out
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return "<uuid>" if UUID.match(value) else self.text(value)
        return value


@override_settings(SHUYUAN_API=NO_LIMITS, WAGTAILAPI_BASE_URL="http://api.test")
class GoldenTests(TestCase):
    maxDiff = None

    @classmethod
    def setUpTestData(cls):
        cls.site = build_golden_site()
        cls.member_token = token_for(make_user("golden-member", visibility.members_group()))

    def check(self, name: str, url: str, status: int = 200, token: str | None = None):
        response = ApiClient(token).get(url)
        self.assertEqual(response.status_code, status, response.content[:300])
        actual = Normaliser(self.site)(response.json())
        path = GOLDEN / f"{name}.json"
        if os.environ.get("UPDATE_GOLDEN") or not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        expected = json.loads(path.read_text(encoding="utf-8"))
        self.assertEqual(actual, expected, f"{name}: response differs from {path.name}")

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
