"""The secrecy review service: record a published revision's findings, hold it, clear or refuse it.

Every way a page's live content changes passes here in the transaction that changes it: Wagtail's
``page_published`` (the admin, a workflow, a scheduled go-live, ``save_revision().publish()`` from
code) and a live page's row saved in place (a page created live from code, an edit without a
revision). So a page cannot be public with content the review has not seen.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cms.changes import DRAFT_ONLY_FIELDS

from .models import SecrecyHold, SecrecyReview, held
from .scanner import Vocabulary, scan_file, scan_page

#: a live page's row saved with only these fields has the same content (tree bookkeeping, drafts)
NON_CONTENT_FIELDS = DRAFT_ONLY_FIELDS | {
    "path", "depth", "numchild", "url_path", "live", "expired", "has_unpublished_changes", "live_revision",
    "last_published_at", "first_published_at", "go_live_at", "expire_at", "audience",
}


class ReviewError(Exception):
    """A decision that may not be recorded (the message says why, in Chinese, for the form)."""


def is_reviewable(page) -> bool:
    return hasattr(page, "classification")


def review_live_page(page, revision=None) -> SecrecyReview | None:
    """Scan the live content of ``page`` (a specific page) and record it against its live revision;
    hold or release the page. Idempotent per revision: a revision already reviewed with the same
    findings keeps its record and decision."""
    if not is_reviewable(page) or not page.live:
        return None
    revision_id = revision.pk if revision is not None else page.live_revision_id
    if getattr(page, "_secrecy_reviewed", object()) == revision_id:
        return None  # the row's save in this publish was reviewed already
    findings = [f.as_dict() for f in scan_page(page, Vocabulary.load())]
    existing = SecrecyReview.objects.filter(page_id=page.pk, revision_id=revision_id).order_by("-pk").first()
    if existing is not None and existing.findings == findings and existing.classification == page.classification:
        review = existing
    else:
        author = revision.user if revision is not None else None
        if author is None and revision_id:
            author = page.live_revision.user if page.live_revision_id == revision_id else None
        review = SecrecyReview.objects.create(
            page_id=page.pk,
            revision_id=revision_id,
            title=page.title[:255],
            classification=page.classification,
            collector=author,
            findings=findings,
            decision=SecrecyReview.Decision.PENDING if findings else SecrecyReview.Decision.NONE,
        )
    _apply_hold(page.pk, review)
    page._secrecy_reviewed = revision_id
    return review


def _apply_hold(page_id: int, review: SecrecyReview) -> None:
    if review.held:
        SecrecyHold.objects.update_or_create(page_id=page_id, defaults={"review": review})
        return
    SecrecyHold.objects.filter(page_id=page_id).delete()
    if review.online_at is None:
        review.online_at = timezone.now()
        review.save(update_fields=["online_at"])


def live_review(page) -> SecrecyReview | None:
    """The record of the page's live revision (or of its live row, for a page without revisions)."""
    return SecrecyReview.objects.filter(page_id=page.pk, revision_id=page.live_revision_id).order_by("-pk").first()


def may_review(user, review: SecrecyReview) -> bool:
    """Reviewers decide within their own scope (逐级授权): a page they may edit (a unit's reviewers:
    their unit's subtree; the committee's: the whole tree), a document they may change (their unit's
    collection)."""
    if not (user.is_active and user.has_perm("secrecy.review_secrecy")):
        return False
    if user.is_superuser:
        return True
    if review.document_id:
        from wagtail.documents import get_document_model
        from wagtail.permissions import policy_registry

        document = get_document_model().objects.filter(pk=review.document_id).first()
        policy = policy_registry.get_by_type(get_document_model())
        return document is not None and policy.user_has_permission_for_instance(user, "change", document)
    from wagtail.models import Page

    page = Page.objects.filter(pk=review.page_id).first()
    return page is not None and page.permissions_for_user(user).can_edit()


def reviews_for(user):
    """The review records ``user`` may read: all for the committee and administrators, the records
    of their own subtree and collection for a unit's reviewers."""
    records = SecrecyReview.objects.all()
    if user.is_superuser:
        return records
    from django.db.models import Q
    from wagtail.documents import get_document_model
    from wagtail.models import Page
    from wagtail.permissions import policy_registry

    roots = [
        p.path for p in Page.objects.filter(
            group_permissions__group__user=user, group_permissions__permission__codename="change_page"
        ).only("path")
    ]
    pages = Q(pk=None)
    for path in set(roots):
        pages |= Q(path__startswith=path)
    policy = policy_registry.get_by_type(get_document_model())
    documents = policy.instances_user_has_permission_for(user, "change").values("pk")
    return records.filter(
        Q(page__in=Page.objects.filter(pages).values("pk")) | Q(document__in=documents)
    )


@transaction.atomic
def decide(review: SecrecyReview, user, decision: str, *, approver=None, comment: str = "") -> SecrecyReview:
    """Record a reviewer's decision. The revision's author (采集人) may not review it; 审核人 is
    someone other than the 审查人. Clearing the live revision (or the document's current file)
    releases it at once: the change feed tells the outputs (API, search, static site), as for a view
    restriction."""
    from cms import changes

    if decision not in (SecrecyReview.Decision.CLEARED, SecrecyReview.Decision.REFUSED):
        raise ReviewError("请选择审查结论：准予上网或不予上网。")
    if not user.has_perm("secrecy.review_secrecy"):
        raise ReviewError("您没有保密审查的权限。")
    if not may_review(user, review):
        raise ReviewError("该内容不在您的审查范围内（只能审查本单位及下级单位的内容）。")
    if review.collector_id is not None and review.collector_id == user.pk:
        raise ReviewError("采集人不能审查自己提交的内容。")
    if approver is not None and approver.pk in (user.pk, review.collector_id):
        raise ReviewError("审核人不能是审查人或采集人本人。")
    if decision == SecrecyReview.Decision.CLEARED and review.classification != "public":
        raise ReviewError("密级不是“公开”的内容不得上网，不能准予上网。")
    review.decision = decision
    review.reviewer = user
    review.approver = approver
    review.comment = comment
    review.decided_at = timezone.now()
    review.save()
    if review.document_id:
        _decide_document(review)
        return review
    from wagtail.models import Page

    page = Page.objects.filter(pk=review.page_id).first()
    if page is not None and page.live and live_review(page) == review:
        was_held = SecrecyHold.objects.filter(page_id=page.pk).exists()
        _apply_hold(page.pk, review)
        if was_held != review.held:
            changes.record(
                changes.Event.RESTRICTION, page_id=page.pk, subtree=True,
                reason=f"secrecy review {review.get_decision_display()} «{page.title}»",
            )
    return review


def _decide_document(review: SecrecyReview) -> None:
    from wagtail.documents import get_document_model

    document = get_document_model().objects.filter(pk=review.document_id).first()
    if document is not None and current_file_review(document) == review:
        _set_file_hold(document, review.held)
        if not review.held and review.online_at is None:
            review.online_at = timezone.now()
            review.save(update_fields=["online_at"])


def review_all_live(progress=None) -> int:
    """Review every live page that has no record of its live state (pages published before the
    review existed): what ``manage.py secrecy_review`` runs after an upgrade. Returns how many."""
    from wagtail.models import Page

    done = 0
    for page in Page.objects.filter(live=True, depth__gt=1).specific().iterator(chunk_size=200):
        if is_reviewable(page) and live_review(page) is None:
            with transaction.atomic():
                review_live_page(page)
            done += 1
            if progress is not None:
                progress(page)
    return done


# -- files ----------------------------------------------------------------------------------------------
def current_file_review(document) -> SecrecyReview | None:
    """The record of the document's current file (its hash), newest first."""
    return (
        SecrecyReview.objects.filter(document_id=document.pk, file_hash=getattr(document, "file_hash", "") or "")
        .order_by("-pk")
        .first()
    )


def _file_review(document, findings: list[dict]) -> SecrecyReview:
    """The document's record for its current file: kept when the findings are the same (a decision
    stands for the file it was made on), a new pending one otherwise."""
    existing = current_file_review(document)
    if existing is not None and existing.findings == findings and existing.classification == document.classification:
        return existing
    return SecrecyReview.objects.create(
        document_id=document.pk,
        file_hash=getattr(document, "file_hash", "") or "",
        title=document.title[:255],
        classification=document.classification,
        collector=getattr(document, "uploaded_by_user", None),
        findings=findings,
        decision=SecrecyReview.Decision.PENDING,
    )


def file_held(file) -> bool:
    """Whether an uploaded file may not be online: classified other than 公开, or its text has findings
    a reviewer has not cleared (documents; an image with findings stays held until it is changed)."""
    from wagtail.documents.models import AbstractDocument

    findings = [f.as_dict() for f in scan_file(file, Vocabulary.load())]
    decision = SecrecyReview.Decision.PENDING
    if findings and isinstance(file, AbstractDocument):
        decision = _file_review(file, findings).decision
    return held(file.classification, findings, decision)


def review_file(file) -> None:
    """Keep the file's ``secrecy_hold`` up to date after a save (an update: no second save signal)."""
    _set_file_hold(file, file_held(file))


def _set_file_hold(file, hold: bool) -> None:
    from cms import changes

    if hold != file.secrecy_hold:
        type(file)._default_manager.filter(pk=file.pk).update(secrecy_hold=hold)
        file.secrecy_hold = hold
        # an update sends no signal: tell the outputs as a save of the file would
        verb = "held" if hold else "released"
        changes.record(changes.Event.CHANGED, obj=file, reason=f"secrecy review {verb} «{file.title}»")


def held_document_ids(ids) -> set[int]:
    """Of these documents, those whose current file has a record not cleared: what the publisher
    reads again from the records, whatever ``secrecy_hold`` says."""
    from wagtail.documents import get_document_model

    hashes = dict(get_document_model().objects.filter(pk__in=list(ids)).values_list("pk", "file_hash"))
    latest: dict[int, bool] = {}
    records = SecrecyReview.objects.filter(document_id__in=list(hashes)).order_by("pk")
    for document_id, file_hash, classification, findings, decision in records.values_list(
        "document_id", "file_hash", "classification", "findings", "decision"
    ):
        if file_hash == (hashes.get(document_id) or ""):
            latest[document_id] = held(classification, findings, decision)
    return {pk for pk, is_held in latest.items() if is_held}
