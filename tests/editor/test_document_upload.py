"""The documents screen's default upload (文档 → 添加一个文档 → 上传 → 上传成功 → 更新) on every path Wagtail
takes: the file saved at once then its details updated, the file parked as an upload when the first
form is incomplete then made a document, and the single-file form. An error the model reports about the
file, which the details form has no field for, is shown in Chinese instead of an HTTP 500.

``WAGTAILDOCS_DOCUMENT_FORM_BASE = "media.forms.DocumentForm"`` is the project's setting; the tests set
it too so they say what it does.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from wagtail.documents.forms import get_document_form, get_document_multi_form
from wagtail.models import Collection

from media.models import ShuyuanDocument

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("document_form_base")]


@pytest.fixture
def document_form_base():
    with override_settings(WAGTAILDOCS_DOCUMENT_FORM_BASE="media.forms.DocumentForm"):
        yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_superuser("uploader", "", "pw")


@pytest.fixture
def admin(client, user):
    client.force_login(user)
    return client


def details(form, **values) -> dict:
    """What the browser posts for a details form: its current values, with ``values`` changed."""
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, (list, tuple)):
            value = ""
        data[bound.html_name] = "" if value is None else value
    for name, value in values.items():
        data[form.add_prefix(name)] = value
    return data


def upload(admin, name="学习资料.txt", content: bytes | None = None, **extra):
    content = "三会一课".encode() if content is None else content
    response = admin.post("/admin/documents/multiple/add/", {"files[]": SimpleUploadedFile(name, content), **extra})
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


# -- refused, never a 500 ---------------------------------------------------------------------------------
def test_a_file_the_model_refuses_is_a_chinese_error_on_update_not_a_500(admin, user):
    """A document whose file the model's checks refuse (an extension no longer allowed, made by code):
    updating its details used to raise ``'ShuyuanDocumentForm' has no field named 'file'``."""
    document = ShuyuanDocument(title="旧文件")
    document.file.save("说明.md", ContentFile(b"# notes"), save=False)
    document.save()
    form = get_document_multi_form(ShuyuanDocument)(instance=document, prefix=f"doc-{document.pk}", user=user)
    response = admin.post(f"/admin/documents/multiple/{document.pk}/", details(form, title="新标题"))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["success"] is False
    assert "文件：" in data["form"] and "md" in data["form"]
    document.refresh_from_db()
    assert document.title == "旧文件"


def test_a_disguised_file_is_refused_at_upload_in_chinese(admin):
    data = upload(admin, "报告.pdf", b"MZ\x90\x00" + b"\x00" * 500)
    assert data["success"] is False and "不是 PDF 文件" in data["error_message"]
    assert not ShuyuanDocument.objects.exists()


# -- every path saves the title and the audience ---------------------------------------------------------
def update(admin, user, data: dict, **values) -> ShuyuanDocument:
    """Press 更新 under an uploaded file, whichever form Wagtail answered with: the details of a document
    already saved (``doc_id``), or of a file parked until its details are complete (``uploaded_file_id``)."""
    form_class = get_document_multi_form(ShuyuanDocument)
    if "doc_id" in data:
        document = ShuyuanDocument.objects.get(pk=data["doc_id"])
        form = form_class(instance=document, prefix=f"doc-{document.pk}", user=user)
        url = f"/admin/documents/multiple/{document.pk}/"
    else:
        upload_id = data["uploaded_file_id"]
        form = form_class(instance=ShuyuanDocument(), prefix=f"uploaded-document-{upload_id}", user=user)
        url = f"/admin/documents/multiple/create_from_uploaded_document/{upload_id}/"
    response = admin.post(url, details(form, **values))
    assert response.status_code == 200, response.content[:300]
    answer = json.loads(response.content)
    assert answer["success"], answer
    return ShuyuanDocument.objects.get(pk=answer["doc_id"])


def test_upload_then_update_saves_title_and_audience(admin, user):
    data = upload(admin)
    assert data["success"], data
    document = update(admin, user, data, title="学习资料（修订）", audience="members")
    assert (document.title, document.audience) == ("学习资料（修订）", "members")
    assert document.file.read() == "三会一课".encode()
    assert ShuyuanDocument.objects.count() == 1


def test_an_incomplete_upload_becomes_a_document_when_its_details_are_filled_in(admin, user):
    """With two collections and none chosen, Wagtail parks the file and asks for the details."""
    branch = Collection.get_first_root_node().add_child(name="第一支部")
    data = upload(admin)
    assert data["success"] and "uploaded_file_id" in data, data
    document = update(admin, user, data, title="支部学习资料", collection=branch.pk, audience="internal")
    assert (document.title, document.audience, document.collection_id) == ("支部学习资料", "internal", branch.pk)
    assert document.file.read() == "三会一课".encode()


def test_a_saved_documents_details_are_updated(admin, user):
    """The details form of a document already saved (the path when the first form is complete)."""
    document = ShuyuanDocument(title="已上传")
    document.file.save("已上传.txt", ContentFile("正文".encode()), save=False)
    document.save()
    document = update(admin, user, {"doc_id": document.pk}, title="已上传（修订）", audience="members")
    assert (document.title, document.audience) == ("已上传（修订）", "members")


def test_the_single_file_form_saves_title_and_audience(admin, user):
    form = get_document_form(ShuyuanDocument)(user=user)
    data = details(form, title="单个上传", audience="members")
    data["file"] = SimpleUploadedFile("单个.txt", "内容".encode())
    response = admin.post("/admin/documents/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    document = ShuyuanDocument.objects.get(title="单个上传")
    assert document.audience == "members"
