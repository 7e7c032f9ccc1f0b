"""Files follow the same hold: a document whose text has findings, or a file classified 内部, is never
visible outside the CMS, whatever its audience; a clean public file is."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from media.audience import Audience, effective_audience, public_files
from media.models import ShuyuanDocument


def make_document(title: str, text: str, audience: str = "public", classification: str = "public") -> ShuyuanDocument:
    document = ShuyuanDocument(title=title, audience=audience, classification=classification)
    document.file.save("note.txt", ContentFile(text.encode()), save=False)
    document.save()
    document.refresh_from_db()
    return document


@pytest.mark.django_db
def test_a_public_document_whose_text_has_a_marker_is_held():
    document = make_document("会议通知", "本通知内容属绝密，请妥善保管")
    assert document.secrecy_hold
    assert not public_files(ShuyuanDocument).filter(pk=document.pk).exists()
    assert effective_audience(document) == Audience.INTERNAL


@pytest.mark.django_db
def test_an_internal_file_is_never_public_whatever_its_audience():
    document = make_document("内部通讯录", "支部活动安排", classification="internal")
    assert not public_files(ShuyuanDocument).filter(pk=document.pk).exists()
    assert effective_audience(document) == Audience.INTERNAL


@pytest.mark.django_db
def test_a_clean_public_document_is_public():
    document = make_document("学习材料", "认真学习贯彻党的二十大精神")
    assert not document.secrecy_hold
    assert public_files(ShuyuanDocument).filter(pk=document.pk).exists()
