"""PDF text, page by page, with pypdf."""

from __future__ import annotations

import io
import logging

from media.extractors.base import BaseTextExtractor, Deadline, ExtractedPage, ExtractionError

# pypdf logs every recoverable defect of a malformed file as a warning; they are
# summarised by the ExtractionError reason instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class PdfTextExtractor(BaseTextExtractor):
    extensions = ("pdf",)

    def _extract(self, data: bytes, filename: str, deadline: Deadline) -> list[ExtractedPage]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError, PyPdfError

        if not data.lstrip()[:5].startswith(b"%PDF"):
            raise ExtractionError("malformed", f"{filename}: not a PDF")
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise ExtractionError("encrypted", filename)
            n = len(reader.pages)
            if n > self.limits.max_pages:
                raise ExtractionError("too_many_pages", f"{filename}: {n} pages")
            pages = []
            for number, page in enumerate(reader.pages, start=1):
                deadline.check()
                text = page.extract_text() or ""
                pages.append(ExtractedPage(number, text.strip()))
            return pages
        except ExtractionError:
            raise
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                AssertionError, RecursionError, OSError, ZeroDivisionError, NotImplementedError) as exc:
            # pypdf raises a wide range of exceptions on hostile input; all mean "cannot parse".
            raise ExtractionError("malformed", f"{filename}: {type(exc).__name__}: {exc}") from exc


TextExtractor = PdfTextExtractor
