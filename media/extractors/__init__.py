"""Text extraction from uploaded documents, for search indexing.

Extractors are backends declared in ``settings.SHUYUAN_TEXT_EXTRACTORS``
(``{"default": {"BACKEND": "media.extractors.default", "OPTIONS": {...}}}``).
Each returns the text page by page, or raises :class:`ExtractionError` with a
reason code; a malformed or hostile file is skipped with that reason and never
stops indexing.
"""

from media.extractors.base import (
    BaseTextExtractor,
    ExtractedPage,
    ExtractionError,
    ExtractionLimits,
)
from media.extractors.loader import get_text_extractor

__all__ = ["BaseTextExtractor", "ExtractedPage", "ExtractionError", "ExtractionLimits", "get_text_extractor"]
