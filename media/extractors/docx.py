"""DOCX text (paragraphs and tables) with python-docx.  Word files have no fixed pages."""

from __future__ import annotations

import io
import zipfile

from media.extractors.base import BaseTextExtractor, Deadline, ExtractedPage, ExtractionError

# A zip bomb guard: the XML of a DOCX is small; refuse archives that inflate absurdly.
MAX_UNCOMPRESSED_RATIO = 200


class DocxTextExtractor(BaseTextExtractor):
    extensions = ("docx",)

    def _extract(self, data: bytes, filename: str, deadline: Deadline) -> list[ExtractedPage]:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                inflated = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile as exc:
            raise ExtractionError("malformed", f"{filename}: not a DOCX (zip) file") from exc
        if inflated > max(self.limits.max_bytes, len(data) * MAX_UNCOMPRESSED_RATIO):
            raise ExtractionError("too_large", f"{filename}: inflates to {inflated} bytes")
        try:
            document = docx.Document(io.BytesIO(data))
            parts: list[str] = []
            for i, paragraph in enumerate(document.paragraphs):
                if i % 200 == 0:
                    deadline.check()
                if paragraph.text.strip():
                    parts.append(paragraph.text)
            for table in document.tables:
                deadline.check()
                for row in table.rows:
                    cells = [c.text.strip() for c in row.cells if c.text.strip()]
                    if cells:
                        parts.append(" ".join(dict.fromkeys(cells)))
        except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, AttributeError, TypeError) as exc:
            raise ExtractionError("malformed", f"{filename}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - lxml raises its own XMLSyntaxError hierarchy
            from lxml import etree

            if isinstance(exc, etree.LxmlError):
                raise ExtractionError("malformed", f"{filename}: {exc}") from exc
            raise
        return [ExtractedPage(None, "\n".join(parts))]


TextExtractor = DocxTextExtractor
