"""The review in the admin: only reviewers decide; the records export as CSV; the editor sees the
findings with their places when saving."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.urls import reverse

from cms.secrecy.models import PreferredTerm, SecrecyHold, SecrecyReview
from cms.secrecy.review import live_review
from cms.secrecy.wagtail_hooks import findings_after_save


def held_page(site, author):
    page = site.articles[0].specific
    page.summary = "本文为机密"
    page.save_revision(user=author).publish(user=author)
    page.refresh_from_db()
    return page


def test_an_editor_without_the_review_permission_cannot_decide(site, client, author):
    page = held_page(site, author)
    editor = get_user_model().objects.create_user("编辑甲", password="x-Long-pass-123")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    url = reverse("secrecy_decide", args=[live_review(page).pk])
    response = client.post(url, {"decision": "cleared"})
    assert response.status_code in (302, 403)
    assert SecrecyHold.objects.filter(page=page).exists()
    assert client.get(reverse("secrecy_review:index")).status_code in (302, 403)


def test_the_author_is_refused_in_the_form(site, client, author):
    page = held_page(site, author)
    client.force_login(author)
    response = client.post(reverse("secrecy_decide", args=[live_review(page).pk]), {"decision": "cleared"})
    assert response.status_code == 200
    assert "采集人不能审查自己提交的内容" in response.content.decode()
    assert SecrecyHold.objects.filter(page=page).exists()


def test_a_reviewer_clears_and_the_record_exports_as_csv(site, client, author, reviewer):
    page = held_page(site, author)
    client.force_login(reviewer)
    url = reverse("secrecy_decide", args=[live_review(page).pk])
    page_html = client.get(url).content.decode()
    assert "密级标志" in page_html and "摘要" in page_html
    response = client.post(url, {"decision": "cleared", "comment": "已核实"})
    assert response.status_code == 302
    assert not SecrecyHold.objects.filter(page=page).exists()
    response = client.get(reverse("secrecy_review:index") + "?export=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    header = body.splitlines()[0]
    for heading in ("采集人", "审查人", "审核人", "上网时间", "审查结论", "发现的问题"):
        assert heading in header
    assert page.title in body and "准予上网" in body and "保密审查员" in body and "采集员" in body


def test_the_editor_sees_findings_and_the_right_form_on_save(site, author):
    PreferredTerm.objects.create(wrong="党支部书纪", correct="党支部书记")
    page = site.articles[0].specific
    page.summary = "党支部书纪讲话"
    request = RequestFactory().post("/admin/")
    request.user = author
    request.session = {}
    request._messages = FallbackStorage(request)
    findings_after_save(request, page)
    texts = [str(m) for m in get_messages(request)]
    assert any("摘要" in t and "改为「党支部书记」" in t for t in texts), texts
    assert SecrecyReview.objects.filter(page=page).count() >= 1  # the live row's record (created live)
