"""Translating a page with inline children (a material's attachments) queues no reference-index job
that fails.

wagtail-localize copies a page with its children, then saves the translation again with new children
in place of the copied ones. Wagtail queues a reference-index job naming each child saved, and the
copied ones are gone before the worker runs it (StudyMaterialAttachment.DoesNotExist, a FAILED job).
Here the jobs go to the database, as in production, and the worker runs them after each path: the
admin's Translate (submit, machine translation, publish) and the automatic zh-hant refresh.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from wagtail.documents import get_document_model
from wagtail.models import Locale

from cms.models import StudyMaterialAttachment
from cms.translation import index_references_through_parents, translate_page
from tests.factories import build_site

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@contextmanager
def _signal_handlers_kept():
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


def run_worker() -> list[tuple[str, list, str]]:
    """Run every queued job as ``db_worker`` does; the ones that did not succeed."""
    from django_tasks_db.models import DBTaskResult

    # the worker closes "old" connections between jobs, which would close this test's own transaction's
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"), _signal_handlers_kept():
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    return [(r.task_path, r.args_kwargs, r.exception_class_path) for r in DBTaskResult.objects.filter(status="FAILED")]


def reference_jobs() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith="update_reference_index_task").count()


@pytest.fixture
def material(db, settings, django_capture_on_commit_callbacks):
    index_references_through_parents()  # (CmsConfig.ready does it; idempotent)
    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    settings.SHUYUAN_AUTO_TRADITIONAL = False
    tree = build_site(n_articles=1)
    admin = get_user_model().objects.create_superuser("admin", "", "pw")
    hant = Locale.objects.create(language_code="zh-hant")
    page = tree.materials[0]
    Document = get_document_model()
    for i in range(3):
        document = Document.objects.create(title=f"附件{i}", file=ContentFile(b"%PDF-1.4 x", name=f"a{i}.pdf"))
        StudyMaterialAttachment.objects.create(page=page, document=document, title=f"学习附件{i}", sort_order=i)
    page.save_revision(user=admin).publish(user=admin)
    for ancestor in page.get_ancestors().filter(depth__gt=1):  # parents first, as in the admin
        with django_capture_on_commit_callbacks(execute=True):
            translate_page(ancestor, hant)
    cache.clear()
    settings.TASKS = DB_TASKS
    return page, hant, admin


def test_the_admins_translate_queues_no_failing_reference_job(material, client, django_capture_on_commit_callbacks):
    page, hant, admin = material
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/localize/submit/page/{page.pk}/", {"locales": [hant.pk]})
    assert response.status_code == 302, response.content[:2000]
    copy = page.get_translation(hant)
    from wagtail_localize.models import Translation

    translation = Translation.objects.get(source__object_id=page.translation_key, target_locale=hant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/localize/translate/{translation.pk}/machine_translate/", {"next": "/admin/"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/pages/{copy.pk}/edit/", {"action": "publish"})
    assert response.status_code in (200, 302)
    copy.refresh_from_db()
    assert copy.live and copy.specific.attachments.count() == 3
    assert reference_jobs() > 0  # the copy's references are still indexed, through jobs that work
    failed = run_worker()
    assert failed == [], "\n".join(map(str, failed))


def test_the_automatic_traditional_refresh_queues_no_failing_reference_job(material, settings, django_capture_on_commit_callbacks):
    page, hant, admin = material
    with django_capture_on_commit_callbacks(execute=True):
        translate_page(page, hant)
    settings.SHUYUAN_AUTO_TRADITIONAL = True
    page.title = "学习材料新标题"
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision(user=admin).publish(user=admin)
    failed = run_worker()
    assert failed == [], "\n".join(map(str, failed))
    copy = page.get_translation(hant).specific
    assert copy.title == "學習材料新標題" and copy.attachments.count() == 3


def test_a_saved_attachment_queues_the_job_of_its_page_even_after_migrate(db, settings):
    """What the paths above rely on, quiet while migrations run and in force after ``migrate``/``flush``
    (their post_migrate reconnects Wagtail's own handlers, which name the attachment)."""
    from django.db.models.signals import post_migrate
    from django_tasks_db.models import DBTaskResult
    from wagtail.signal_handlers import (
        connect_reference_index_signal_handlers,
        disconnect_reference_index_signal_handlers,
    )

    from cms.translation import _quiet_during_migrate

    index_references_through_parents()
    receivers = [r.__name__ for r in post_migrate._live_receivers(None)[0]]
    assert receivers.index("connect_reference_index_signal_handlers") < receivers.index("index_references_through_parents")
    page = build_site(n_articles=1).materials[0]
    document = get_document_model().objects.create(title="附件", file=ContentFile(b"%PDF-1.4 x", name="a.pdf"))
    settings.TASKS = DB_TASKS
    jobs = DBTaskResult.objects.filter(task_path__endswith="update_reference_index_task")
    try:
        disconnect_reference_index_signal_handlers()  # pre_migrate's receivers, Wagtail's and ours
        _quiet_during_migrate()
        StudyMaterialAttachment.objects.create(page=page, document=document, title="迁移中")
        assert not jobs.exists()
    finally:
        connect_reference_index_signal_handlers()  # post_migrate's, in their order
        index_references_through_parents()
    attachment = StudyMaterialAttachment.objects.create(page=page, document=document, title="附件")
    assert [job.args_kwargs["args"] for job in jobs] == [["cms", "studymaterialpage", str(page.pk)]]
    attachment.delete()
    assert run_worker() == []
