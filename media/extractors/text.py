"""Plain-text files (UTF-8, or GB18030 as Chinese offices often save them)."""

from __future__ import annotations

from media.extractors.base import BaseTextExtractor, Deadline, ExtractedPage, ExtractionError


class PlainTextExtractor(BaseTextExtractor):
    extensions = ("txt", "md")

    def _extract(self, data: bytes, filename: str, deadline: Deadline) -> list[ExtractedPage]:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return [ExtractedPage(None, data.decode(encoding))]
            except UnicodeDecodeError:
                continue
        raise ExtractionError("malformed", f"{filename}: unknown text encoding")


TextExtractor = PlainTextExtractor
