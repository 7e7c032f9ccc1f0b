"""The acceptance scan of issue #10: an outsider finds nothing restricted in any public output.

An editor attaches files to a members-only and an internal study material, puts an image on an
internal article, translates an article into zh-hant and en and then withdraws the source. After
one publish, everything an anonymous caller can reach is scanned for the restricted titles, file
names and URLs: the published folder (pages, sitemaps, feeds, assets), the API (pages, images,
documents, their details and downloads), the search API and suggestions, the CMS front end and its
document and rendition URLs.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import TestCase, override_settings
from wagtail.images import get_image_model
from wagtail.models import Locale

from cms.demo import assets
from cms.models import StudyMaterialAttachment
from cms.translation import translate_page
from cms.visibility import Audience
from deploy.service import publish
from deploy.targets import get_target
from media.models import ShuyuanDocument
from search import indexing
from tests.factories import ArticlePageFactory, StudyMaterialPageFactory, build_site

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def _document(title: str, filename: str) -> ShuyuanDocument:
    """An upload as the admin makes it: the audience is left at its default."""
    document = ShuyuanDocument(title=title)
    document.file.save(filename, ContentFile(assets.make_pdf(title, [[title + "正文"]])), save=False)
    document.save()
    return document


def _image(title: str):
    image = get_image_model()(title=title, file=ImageFile(io.BytesIO(assets.make_image(3)), name="cover.png"))
    image.save()
    return image


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None)
class OutsiderScanTests(TestCase):
    def build(self, folder: Path):
        tree = build_site(n_articles=1)
        hant, _ = Locale.objects.get_or_create(language_code="zh-hant")
        en, _ = Locale.objects.get_or_create(language_code="en")
        # Files on restricted pages, uploaded with the default audience.
        members_doc = _document("会员附件甲", "members-secret-a.pdf")
        internal_doc = _document("内部附件乙", "internal-secret-b.pdf")
        public_doc = _document("公开附件丙", "public-ok-c.pdf")
        StudyMaterialAttachment.objects.create(page=tree.members_material, document=members_doc)
        internal_material = StudyMaterialPageFactory(
            parent=tree.library, title="内部学习材料", slug="internal-material", audience=Audience.INTERNAL
        )
        StudyMaterialAttachment.objects.create(page=internal_material, document=internal_doc)
        StudyMaterialAttachment.objects.create(page=tree.materials[0], document=public_doc)
        for page in (tree.members_material, internal_material.specific, tree.materials[0]):
            page.specific.save_revision().publish()
        internal_image = _image("内部图片丁")
        tree.internal_article.cover_image = internal_image
        tree.internal_article.save_revision().publish()
        # A translated article whose source is then withdrawn.
        withdrawn = ArticlePageFactory(parent=tree.news, title="党建撤回测试", slug="withdrawn")
        withdrawn.save_revision().publish()
        for locale in (hant, en):
            for page in withdrawn.get_ancestors(inclusive=True).filter(depth__gt=1):
                with self.captureOnCommitCallbacks(execute=True):
                    translate_page(page, locale)
        cache.clear()
        copies = [withdrawn.get_translation(locale) for locale in (hant, en)]
        self.assertTrue(all(c.live for c in copies), "the translations were published before the withdrawal")
        with self.captureOnCommitCallbacks(execute=True):
            withdrawn.unpublish()
        indexing.rebuild()
        publish(full=True, target=get_target(folder))
        secrets = {
            "titles": ["会员附件甲", "内部附件乙", "内部图片丁", "黨建撤回測試", "党建撤回测试", "内部学习材料"],
            "files": ["members-secret-a", "internal-secret-b"],
            "urls": [f"/documents/{members_doc.pk}/", f"/documents/{internal_doc.pk}/"]
            + [c.specific.url for c in copies if c.specific.url],
        }
        return tree, secrets, (members_doc, internal_doc, public_doc, internal_image, copies)

    def assert_clean(self, where: str, body: str, secrets):
        for group in secrets.values():
            for secret in group:
                self.assertNotIn(secret, body, f"{secret!r} leaked in {where}")

    def test_no_public_output_holds_anything_restricted(self):
        folder = Path(tempfile.mkdtemp(prefix="outsider-"))
        tree, secrets, (members_doc, internal_doc, public_doc, internal_image, copies) = self.build(folder)

        # 1. The published folder: no restricted name in any path or text file.
        published = [p for p in folder.rglob("*") if p.is_file()]
        self.assertTrue(published)
        for path in published:
            rel = str(path.relative_to(folder))
            self.assert_clean(f"path {rel}", rel, secrets)
            if path.suffix in (".html", ".xml", ".json", ".txt", ".js"):
                self.assert_clean(rel, path.read_text(errors="replace"), secrets)
        # the public file did go out, so the scan is not vacuous
        self.assertTrue(any("public-ok-c" in str(p) for p in published), "the public attachment was published")

        # 2. The API, the search API and the CMS front end, anonymously.
        def get(url: str):
            response = self.client.get(url, HTTP_HOST="localhost")
            # consuming a streamed body closes it, as a WSGI server would
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return response.status_code, body.decode(errors="replace")

        bodies = []
        for url in (
            "/api/v2/pages/?limit=50&fields=*",
            "/api/v2/pages/?limit=50&fields=*&locale=zh-hant",
            "/api/v2/pages/?limit=50&fields=*&locale=en",
            "/api/v2/documents/?limit=50&fields=*",
            "/api/v2/images/?limit=50&fields=*",
            "/api/v2/search/?q=附件&page_size=50",
            "/api/v2/search/?q=撤回测试&page_size=50",
            "/api/v2/search/?q=黨建撤回測試&page_size=50",
            "/zh-hans/",
            "/zh-hant/",
            "/en/",
            "/sitemap.xml",
        ):
            status, body = get(url)
            self.assertLess(status, 500, url)
            bodies.append((url, body))
        for url, body in bodies:
            if url.startswith("/api/v2/search/"):
                answer = json.loads(body)
                answer.pop("query")  # the caller's own words, echoed
                body = json.dumps(answer, ensure_ascii=False)
            self.assert_clean(url, body, secrets)
        listed = json.loads(dict(bodies)["/api/v2/documents/?limit=50&fields=*"])
        self.assertEqual({d["id"] for d in listed["items"]}, {public_doc.pk})

        # 3. Direct URLs an outsider would guess: every one refused.
        for document in (members_doc, internal_doc):
            for url in (
                f"/api/v2/documents/{document.pk}/",
                f"/api/v2/documents/{document.pk}/download/",
                document.url,
            ):
                status, _body = get(url)
                self.assertIn(status, (302, 403, 404), f"{url} answered {status}")
        status, _body = get(f"/api/v2/images/{internal_image.pk}/")
        self.assertEqual(status, 404)
        from wagtail.images.views.serve import generate_signature

        signature = generate_signature(internal_image.pk, "fill-40x30")
        status, _body = get(f"/images/{signature}/{internal_image.pk}/fill-40x30/")
        self.assertIn(status, (302, 403, 404), "a rendition of an internal image")
        for copy in copies:
            copy = type(copy).objects.get(pk=copy.pk)
            self.assertFalse(copy.live, f"{copy.locale} copy still live after its source was withdrawn")
            status, _body = get(f"/api/v2/pages/{copy.pk}/")
            self.assertEqual(status, 404)
        status, _body = get(f"/api/v2/documents/{public_doc.pk}/download/")
        self.assertEqual(status, 200, "the public attachment stays downloadable")
