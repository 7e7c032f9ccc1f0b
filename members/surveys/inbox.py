"""Import the public service's inbox into ``FormSubmission`` rows (the worker's task, the
``import_submissions`` command).

Idempotent and loss-free: each file's key is recorded (``ImportedSubmission``) in the transaction that
creates the row, and the file is moved to ``imported/`` only after that commits; a crash in between
leaves the file, and the next run finds its key and only moves it. A file that cannot be imported (bad
JSON, a page that is gone or no longer public, answers that fail the rules now) goes to ``rejected/``
with the reason logged, kept for the operator.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from . import rules, spool

logger = logging.getLogger("shuyuan.surveys")


@dataclass
class ImportResult:
    imported: int = 0
    already: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def inbox_path() -> Path | None:
    raw = getattr(settings, "SHUYUAN_FORMS_INBOX", None)
    return Path(raw) if raw else None


def import_inbox(inbox: str | Path | None = None) -> ImportResult:
    from wagtail.models import Page

    from .models import ImportedSubmission

    root = Path(inbox) if inbox else inbox_path()
    result = ImportResult()
    if root is None:
        return result
    forms: dict[int, tuple] = {}  # page id -> (page, definition, public), asked once per run

    def form_of(page_id: int) -> tuple:
        if page_id not in forms:
            page = Page.objects.filter(pk=page_id).first()
            page = page.specific if page is not None else None
            if page is None or not hasattr(page, "form_spec"):
                forms[page_id] = (None, None, False)
            else:
                forms[page_id] = (page, page.form_spec(), page.is_public())
        return forms[page_id]

    for path in spool.waiting(root):
        key = path.stem
        if ImportedSubmission.objects.filter(key=key).exists():
            spool.move_aside(path, spool.IMPORTED)
            result.already += 1
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("key") != key or not set(key) <= spool.KEY_CHARS:
                raise rules.Refusal(400, "文件内容与文件名不符")
            page, spec, public = form_of(int(record["page_id"]))
            if page is None:
                raise rules.Refusal(404, "问卷或信箱已不存在")
            if not public:
                raise rules.Refusal(403, "问卷或信箱已不再公开")
            received = dt.datetime.fromtimestamp(float(record["received_at"]), tz=dt.UTC)
            # the rules again, as of when the service took it (closing since then does not refuse it)
            cleaned = rules.validate(spec, record.get("data") or {}, now=received)
        except (rules.Refusal, ValueError, KeyError, TypeError, OSError) as exc:
            reason = exc.message if isinstance(exc, rules.Refusal) else f"{type(exc).__name__}: {exc}"
            logger.warning("inbox: %s rejected: %s", path.name, reason)
            spool.move_aside(path, spool.REJECTED)
            result.rejected.append((path.name, reason))
            continue
        with transaction.atomic():
            submission = page.get_submission_class().objects.create(form_data=cleaned, page=page)
            type(submission).objects.filter(pk=submission.pk).update(submit_time=received)
            ImportedSubmission.objects.create(key=key, submission=submission)
        spool.move_aside(path, spool.IMPORTED)
        result.imported += 1
    return result
