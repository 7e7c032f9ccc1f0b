"""The review inside each unit's scope, the findings inside the page editor, and reviewer decisions
on documents (a document with findings is held until a reviewer clears its current file)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse

from cms.orgs.services import create_unit
from cms.secrecy.models import SecrecyHold, SecrecyReview
from cms.secrecy.review import ReviewError, current_file_review, decide, live_review
from media.audience import public_files
from media.models import ShuyuanDocument
from tests.factories import ArticlePageFactory

User = get_user_model()


@pytest.fixture
def branches(site, author):
    committee = create_unit("01", "示范党委", root_page=site.home)
    one = create_unit("0101", "第一支部", parent=committee, publish=True)
    two = create_unit("0102", "第二支部", parent=committee, publish=True)

    def member(name, group):
        user = User.objects.create_user(name, password="x-Long-pass-123", is_staff=True)
        user.groups.add(group)
        return user

    article = ArticlePageFactory(parent=two.root_page.specific, summary="本文为机密")
    article.save_revision(user=author).publish(user=author)
    article.refresh_from_db()
    return {
        "one": one, "two": two, "article": article,
        "reviewer1": member("reviewer1", one.reviewers_group),
        "reviewer2": member("reviewer2", two.reviewers_group),
        "committee_reviewer": member("creviewer", committee.reviewers_group),
    }


def test_a_branch_reviewer_cannot_clear_or_read_a_siblings_review(branches, client):
    review = live_review(branches["article"])
    with pytest.raises(ReviewError, match="审查范围"):
        decide(review, branches["reviewer1"], SecrecyReview.Decision.CLEARED)
    client.force_login(branches["reviewer1"])
    response = client.post(reverse("secrecy_decide", args=[review.pk]), {"decision": "cleared"})
    assert (response.status_code, response.get("Location")) == (302, "/admin/")  # Wagtail's refusal
    assert SecrecyReview.objects.get(pk=review.pk).decision == SecrecyReview.Decision.PENDING
    assert SecrecyHold.objects.filter(page=branches["article"]).exists()
    listing = client.get(reverse("secrecy_review:index")).content.decode()
    assert branches["article"].title not in listing
    assert client.get(reverse("secrecy_review:inspect", args=[review.pk]), follow=True).status_code == 404
    body = client.get(reverse("secrecy_review:index") + "?export=csv")
    text = b"".join(body.streaming_content if body.streaming else [body.content]).decode("utf-8-sig")
    assert branches["article"].title not in text


def test_the_branch_and_the_committee_reviewers_decide_in_their_scope(branches, client):
    review = live_review(branches["article"])
    client.force_login(branches["reviewer2"])
    assert branches["article"].title in client.get(reverse("secrecy_review:index")).content.decode()
    decide(review, branches["committee_reviewer"], SecrecyReview.Decision.CLEARED)
    assert not SecrecyHold.objects.filter(page=branches["article"]).exists()


def test_the_editor_sees_the_findings_with_their_places_in_the_edit_form(branches, client, author):
    page = branches["article"]
    client.force_login(author)
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert "保密审查在本页内容中发现 1 处问题" in html
    assert "<td>摘要</td><td>密级标志</td><td>机密</td>" in html
    assert "未通过保密审查" in html
    clean = ArticlePageFactory(parent=branches["one"].root_page.specific)
    html = client.get(f"/admin/pages/{clean.pk}/edit/").content.decode()
    assert "保密审查在本页内容中发现" not in html


def make_document(title, text, user=None):
    document = ShuyuanDocument(title=title, audience="public", uploaded_by_user=user)
    document.file.save("note.txt", ContentFile(text.encode()), save=False)
    document._set_document_file_metadata()  # as the admin's upload form does
    document.save()
    document.refresh_from_db()
    return document


def test_a_document_with_findings_is_held_until_a_reviewer_clears_its_current_file(site, author, reviewer):
    document = make_document("会议材料", "联系人手机 13912345678", user=author)
    assert document.secrecy_hold
    review = current_file_review(document)
    assert review.decision == SecrecyReview.Decision.PENDING and review.collector == author
    with pytest.raises(ReviewError, match="采集人"):
        decide(review, author, SecrecyReview.Decision.CLEARED)
    decide(review, reviewer, SecrecyReview.Decision.CLEARED, comment="本人同意公开")
    document.refresh_from_db()
    assert not document.secrecy_hold
    assert public_files(ShuyuanDocument).filter(pk=document.pk).exists()
    # a new file is a new version: reviewed again, held again
    document.file.save("note2.txt", ContentFile("新材料 13987654321".encode()), save=False)
    document._set_document_file_metadata()
    document.save()
    document.refresh_from_db()
    assert document.secrecy_hold
    assert current_file_review(document).decision == SecrecyReview.Decision.PENDING


def test_the_publisher_reads_the_document_review_again_whatever_the_flag_says(site, author):
    from deploy.checks import _independently_public_files

    document = make_document("会议材料", "绝密文件", user=author)
    ShuyuanDocument.objects.filter(pk=document.pk).update(secrecy_hold=False)  # bypassing the review
    assert _independently_public_files(ShuyuanDocument, {document.pk}, set()) == set()
