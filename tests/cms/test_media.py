"""Uploads are accepted by content, not by name; images can't be decompression bombs. The admin is in
Chinese, and so are the reasons an upload is refused."""

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from cms.demo import assets
from media.models import ShuyuanDocument


class DocumentUploadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = get_user_model().objects.create_superuser("editor", "", "pw")

    def setUp(self):
        self.client.force_login(self.user)

    def upload(self, name, data):
        return self.client.post(
            "/admin/documents/add/",
            {"title": name, "file": SimpleUploadedFile(name, data), "collection": 1, "audience": "public"},
        )

    def test_real_pdf_and_docx_are_accepted(self):
        self.upload("文件.pdf", assets.make_pdf("标题", [["第一页内容"]]))
        self.upload("文件.docx", assets.make_docx("标题", ["正文"]))
        self.assertEqual(ShuyuanDocument.objects.count(), 2)

    def test_executable_renamed_to_pdf_is_refused_with_a_clear_message(self):
        response = self.upload("报告.pdf", b"MZ\x90\x00" + b"\x00" * 500)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "的内容不是 PDF 文件")
        self.assertNotContains(response, "does not contain")
        self.assertEqual(ShuyuanDocument.objects.count(), 0)

    def test_plain_zip_renamed_to_docx_is_refused(self):
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("readme.txt", "hello")
        response = self.upload("伪装.docx", buffer.getvalue())
        self.assertContains(response, "是 zip 压缩包，不是 DOCX 文档")
        self.assertEqual(ShuyuanDocument.objects.count(), 0)

    def test_unknown_extension_is_refused_in_chinese(self):
        response = self.upload("脚本.exe", b"MZ")
        self.assertEqual(ShuyuanDocument.objects.count(), 0)
        self.assertContains(response, "不被允许")
        self.assertNotContains(response, "is not allowed")


class ImageUploadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = get_user_model().objects.create_superuser("editor", "", "pw")

    def test_decompression_bomb_is_refused(self):
        self.client.force_login(self.user)
        buffer = io.BytesIO()
        Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # 100 megapixels, tiny file
        response = self.client.post(
            "/admin/images/add/",
            {"title": "炸弹", "file": SimpleUploadedFile("bomb.png", buffer.getvalue()), "collection": 1},
        )
        from media.models import ShuyuanImage

        self.assertEqual(ShuyuanImage.objects.count(), 0)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "像素")  # the reason, in Chinese
        self.assertEqual(Image.MAX_IMAGE_PIXELS, 64_000_000)


class DocumentAudienceTests(TestCase):
    """A members-only or internal file can't be downloaded by the public from the CMS either."""

    @classmethod
    def setUpTestData(cls):
        from django.core.files.base import ContentFile

        from cms import visibility

        User = get_user_model()
        cls.member = User.objects.create_user("member", password="pw")
        cls.member.groups.add(visibility.members_group())
        cls.docs = {}
        for audience in ("public", "members", "internal"):
            doc = ShuyuanDocument(title=audience, audience=audience)
            doc.file.save(f"{audience}.docx", ContentFile(assets.make_docx(audience, ["正文"])), save=False)
            doc.save()
            cls.docs[audience] = doc

    def fetch(self, audience):
        return self.client.get(self.docs[audience].url)

    def test_anonymous_gets_public_files_only(self):
        self.assertEqual(self.fetch("public").status_code, 200)
        self.assertEqual(self.fetch("members").status_code, 302)
        self.assertEqual(self.fetch("internal").status_code, 302)

    def test_members_get_members_files_but_not_internal_ones(self):
        self.client.force_login(self.member)
        self.assertEqual(self.fetch("members").status_code, 200)
        self.assertEqual(self.fetch("internal").status_code, 403)


class DocumentFilesAreNeverServedDirectlyTests(TestCase):
    """A members-only PDF cannot be fetched past the audience check through the media folder."""

    def test_document_files_live_outside_media_root(self):
        from pathlib import Path

        from django.conf import settings
        from django.core.files.base import ContentFile

        doc = ShuyuanDocument(title="会员资料", audience="members")
        doc.file.save("members-only.pdf", ContentFile(b"%PDF-1.4 members"), save=False)
        doc.save()
        media_root = Path(settings.MEDIA_ROOT).resolve()
        stored = Path(doc.file.path).resolve()
        self.assertTrue(stored.is_file())
        self.assertFalse(stored.is_relative_to(media_root), stored)
        # and the development server's /media/ route does not reach it
        with self.settings(DEBUG=True):
            response = self.client.get(f"{settings.MEDIA_URL}{doc.file.name}")
        self.assertEqual(response.status_code, 404)
        # the audience-checking view still refuses anonymous visitors
        self.assertEqual(self.client.get(doc.url).status_code, 302)
