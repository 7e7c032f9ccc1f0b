"""A parser that fails in an unforeseen way on a hostile file never stops indexing: the file is skipped
with a recorded reason, and the page is still indexed."""

from __future__ import annotations

from unittest import mock

from django.core.files.base import ContentFile
from django.test import TestCase

from media.extractors import get_text_extractor
from media.models import ShuyuanDocument
from search.extraction import document_pages
from search.models import ExtractedText


class UnexpectedParserFailureTests(TestCase):
    def test_unexpected_exception_is_recorded_not_raised(self):
        doc = ShuyuanDocument.objects.create(title="异常文件", file=ContentFile(b"%PDF-1.4 broken", name="odd.pdf"))
        extractor = type(get_text_extractor())
        with mock.patch.object(extractor, "extract", side_effect=RuntimeError("parser bug")):
            self.assertEqual(document_pages(doc), [])
        record = ExtractedText.objects.get(document_id=doc.pk)
        self.assertEqual(record.skipped_reason, "malformed")
        self.assertIn("RuntimeError: parser bug", record.detail)

    def test_hard_time_limit_is_on_by_default(self):
        self.assertTrue(get_text_extractor().isolate)
