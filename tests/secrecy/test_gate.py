"""The gate: nothing the secrecy review has not cleared is online, however it was published.

Negative cases first: 涉密 cannot be saved; a page with 机密 or an identity number, published from code,
stays off the API's listing, the public search and the static site until a reviewer clears it; a
page classified 内部 is not public whatever its audience; the publisher's own check refuses a held page
even when the hold the visibility rule reads is gone; the author cannot clear their own revision.
"""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cms import visibility
from cms.secrecy.models import SecrecyHold, SecrecyReview
from cms.secrecy.review import ReviewError, decide, live_review
from cms.visibility import Audience
from deploy import checks
from deploy.service import publish as publish_site
from media.models import ShuyuanDocument
from search import indexing
from search.documents import document_id
from tests.factories import ArticlePageFactory

VALID_ID = "11010519491231002X"


def api_ids(client) -> set[int]:
    cache.clear()
    response = client.get("/api/v2/pages/", {"type": "cms.ArticlePage", "limit": 50})
    assert response.status_code == 200, response.content[:300]
    return {item["id"] for item in response.json()["items"]}


def search_ids(client, q: str) -> set[str]:
    cache.clear()
    response = client.get("/api/v2/search/", {"q": q, "page_size": 50})
    assert response.status_code == 200, response.content[:300]
    return {r["id"] for r in response.json()["results"]}


def static_has(target, page) -> bool:
    paths = {p for p in target.list_paths() if not p.startswith("_shuyuan/")}
    return page.specific.url.lstrip("/") + "index.html" in paths


def publish_from_code(page, user=None):
    page.save_revision(user=user).publish(user=user)
    page.refresh_from_db()
    return page


# -- refused ----------------------------------------------------------------------------------------------
def test_a_secret_page_cannot_be_saved(site):
    page = ArticlePageFactory.build(title="涉密文件", classification="secret")
    with pytest.raises(ValidationError) as raised:
        site.news.add_child(instance=page)
    assert "涉密信息不得上网" in str(raised.value)
    article = site.articles[0].specific
    article.classification = "secret"
    with pytest.raises(ValidationError, match="涉密信息不得上网"):
        article.save_revision()
    with pytest.raises(ValidationError) as raised:
        article.full_clean()
    assert "classification" in raised.value.message_dict


def test_a_secret_file_cannot_be_saved(db):
    from django.core.files.base import ContentFile

    document = ShuyuanDocument(title="涉密附件", classification="secret", file=ContentFile(b"x", name="a.txt"))
    with pytest.raises(ValidationError, match="涉密信息不得上网"):
        document.save()
    assert not ShuyuanDocument.objects.exists()


@pytest.mark.parametrize("text", ["本通知属机密，请勿外传", f"联系人身份证号{VALID_ID}"])
def test_a_page_with_a_finding_published_from_code_stays_offline_until_cleared(
    site, folder_target, client, reviewer, author, django_capture_on_commit_callbacks, text
):
    title = "保密审查测试通知"
    with django_capture_on_commit_callbacks(execute=True):
        page = ArticlePageFactory(parent=site.news, title=title, summary="普通摘要")
        page.summary = text
        publish_from_code(page, user=author)
    page.refresh_from_db()
    assert page.live
    review = live_review(page)
    assert review.decision == SecrecyReview.Decision.PENDING and review.findings
    assert review.collector == author
    assert SecrecyHold.objects.filter(page=page).exists()

    assert not visibility.public_pages().filter(pk=page.pk).exists()
    assert not visibility.member_pages().filter(pk=page.pk).exists()
    assert visibility.audience_of(page) == Audience.INTERNAL
    assert page.pk not in api_ids(client)
    indexing.rebuild()
    assert document_id(page.pk) not in search_ids(client, title)
    publish_site(full=True, target=folder_target)
    assert not static_has(folder_target, page)
    assert client.get(page.url).status_code == 404  # nor does the CMS front end serve it

    # the author cannot clear their own revision
    with pytest.raises(ReviewError):
        decide(review, author, SecrecyReview.Decision.CLEARED)
    assert SecrecyHold.objects.filter(page=page).exists()

    with django_capture_on_commit_callbacks(execute=True):
        decide(review, reviewer, SecrecyReview.Decision.CLEARED, comment="已核实，可以公开")
    review.refresh_from_db()
    assert review.decision == SecrecyReview.Decision.CLEARED and review.reviewer == reviewer
    assert review.online_at is not None
    assert not SecrecyHold.objects.filter(page=page).exists()
    assert page.pk in api_ids(client)
    indexing.rebuild()
    assert document_id(page.pk) in search_ids(client, title)
    publish_site(target=folder_target)
    assert static_has(folder_target, page)


def test_a_new_revision_with_a_finding_is_held_again(site, reviewer, author):
    page = site.articles[0].specific
    page.body = [("paragraph", "<p>绝密★长期</p>")]
    publish_from_code(page, user=author)
    assert SecrecyHold.objects.filter(page=page).exists()
    decide(live_review(page), reviewer, SecrecyReview.Decision.REFUSED, comment="不予上网")
    assert SecrecyHold.objects.filter(page=page).exists()
    assert live_review(page).findings[0]["place"].startswith("正文第1块")


def test_an_internal_page_is_never_public_whatever_its_audience(site, reviewer, author):
    page = site.articles[0].specific
    assert page.audience == Audience.PUBLIC
    page.classification = "internal"
    publish_from_code(page, user=author)
    assert not visibility.public_pages().filter(pk=page.pk).exists()
    assert page.pk not in checks.independently_public_ids()
    with pytest.raises(ReviewError):
        decide(live_review(page), reviewer, SecrecyReview.Decision.CLEARED)


def test_the_publisher_refuses_a_held_page_even_without_the_hold_flag(site, folder_target, author):
    page = site.articles[0].specific
    page.summary = "内部资料 注意保密"
    publish_from_code(page, user=author)
    assert page.pk not in checks.independently_public_ids()
    SecrecyHold.objects.filter(page=page).delete()  # the flag lost: the rule would render the page
    assert visibility.public_pages().filter(pk=page.pk).exists()
    with pytest.raises(checks.SecrecyError, match=str(page.pk)):
        publish_site(full=True, target=folder_target)
    assert not folder_target.list_paths() or not static_has(folder_target, page)


def test_a_page_created_live_without_a_revision_is_reviewed(site):
    page = ArticlePageFactory(parent=site.news, title="无版本页面", summary="电话13812345678")
    assert SecrecyHold.objects.filter(page=page).exists()
    assert page.pk not in checks.independently_public_ids()
    SecrecyReview.objects.filter(page=page).delete()
    SecrecyHold.objects.filter(page=page).delete()
    assert page.pk not in checks.independently_public_ids()  # no record: the check scans it
    # after an upgrade, the command records what the receivers would have
    call_command("secrecy_review", stdout=io.StringIO())
    assert SecrecyHold.objects.filter(page=page).exists()
    assert live_review(page).findings


# -- allowed ----------------------------------------------------------------------------------------------
def test_a_clean_page_goes_online_with_a_record(site, author):
    page = site.articles[1].specific
    page.summary = "普通的支部活动报道"
    publish_from_code(page, user=author)
    review = live_review(page)
    assert review.findings == [] and review.decision == SecrecyReview.Decision.NONE
    assert review.online_at is not None and review.collector == author
    assert visibility.public_pages().filter(pk=page.pk).exists()
