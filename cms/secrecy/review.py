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


@transaction.atomic
def decide(review: SecrecyReview, user, decision: str, *, approver=None, comment: str = "") -> SecrecyReview:
    """Record a reviewer's decision. The revision's author (采集人) may not review it; 审核人 is
    someone other than the 审查人. Clearing the live revision releases the page at once: the change
    feed tells the outputs (API, search, static site), as for a view restriction."""
    from cms import changes

    if decision not in (SecrecyReview.Decision.CLEARED, SecrecyReview.Decision.REFUSED):
        raise ReviewError("请选择审查结论：准予上网或不予上网。")
    if not user.has_perm("secrecy.review_secrecy"):
        raise ReviewError("您没有保密审查的权限。")
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
def file_held(file) -> bool:
    """Whether an uploaded file may not be online: classified other than 公开, or its text has findings."""
    findings = scan_file(file, Vocabulary.load())
    return held(file.classification, findings, SecrecyReview.Decision.PENDING)


def review_file(file) -> None:
    """Keep the file's ``secrecy_hold`` up to date after a save (an update: no second save signal)."""
    from cms import changes

    hold = file_held(file)
    if hold != file.secrecy_hold:
        type(file)._default_manager.filter(pk=file.pk).update(secrecy_hold=hold)
        file.secrecy_hold = hold
        # an update sends no signal: tell the outputs as a save of the file would
        verb = "held" if hold else "released"
        changes.record(changes.Event.CHANGED, obj=file, reason=f"secrecy review {verb} «{file.title}»")
