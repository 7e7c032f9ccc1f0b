"""Text of uploaded documents for indexing, cached by file hash; skipped files keep their reason."""

from __future__ import annotations

import logging

from media.extractors import ExtractionError, get_text_extractor

logger = logging.getLogger("shuyuan.search")


def document_pages(document) -> list[tuple[int | None, str]]:
    """(page number, text) pairs of a ShuyuanDocument; empty when skipped (reason stored in ExtractedText)."""
    from search.models import ExtractedText

    file_hash = getattr(document, "file_hash", "") or ""
    cached = ExtractedText.objects.filter(document_id=document.pk, file_hash=file_hash).first()
    if cached is not None:
        return [(p.get("page"), p.get("text", "")) for p in cached.pages]
    extractor = get_text_extractor()
    filename = document.file.name or document.title
    record = ExtractedText(document_id=document.pk, file_hash=file_hash, filename=filename[:255])
    if not extractor.handles(filename):
        record.skipped_reason = "unsupported"
    else:
        try:
            with document.file.open("rb") as fh:
                pages = extractor.extract(fh, filename)
            record.pages = [{"page": p.number, "text": p.text} for p in pages]
        except ExtractionError as exc:
            record.skipped_reason, record.detail = exc.reason, exc.detail[:2000]
            logger.warning("search: skipped %s: %s", filename, exc)
        except OSError as exc:
            record.skipped_reason, record.detail = "unreadable", str(exc)[:2000]
            logger.warning("search: cannot read %s: %s", filename, exc)
        except Exception as exc:  # noqa: BLE001 - a parser bug on a hostile file must not stop indexing
            # Recorded (the extraction report shows it to editors) and logged with its traceback; the
            # page is still indexed without this file's text.
            record.skipped_reason, record.detail = "malformed", f"{type(exc).__name__}: {exc}"[:2000]
            logger.exception("search: extractor failed on %s", filename)
    ExtractedText.objects.filter(document_id=document.pk).exclude(file_hash=file_hash).delete()
    ExtractedText.objects.update_or_create(
        document_id=document.pk,
        file_hash=file_hash,
        defaults={
            "filename": record.filename,
            "pages": record.pages,
            "skipped_reason": record.skipped_reason,
            "detail": record.detail,
        },
    )
    return [(p["page"], p["text"]) for p in record.pages]
