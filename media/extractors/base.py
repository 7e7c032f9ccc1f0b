"""The extractor contract and the limits every extractor enforces."""

from __future__ import annotations

import abc
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

#: Reason codes recorded when a file is skipped.
REASONS = {
    "too_large": "file larger than MAX_BYTES",
    "too_many_pages": "more pages than MAX_PAGES",
    "timeout": "extraction took longer than TIMEOUT seconds",
    "encrypted": "file is encrypted",
    "malformed": "file could not be parsed",
    "unsupported": "no extractor for this file type",
    "too_much_text": "extracted text larger than MAX_CHARS",
}


class ExtractionError(Exception):
    """A file was skipped; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail or REASONS.get(reason, '')}")


@dataclass(frozen=True)
class ExtractedPage:
    """Text of one page; ``number`` is 1-based, None for formats without pages (DOCX, TXT)."""

    number: int | None
    text: str


@dataclass(frozen=True)
class ExtractionLimits:
    max_bytes: int = 30 * 1024 * 1024
    max_pages: int = 500
    timeout: float = 20.0
    max_chars: int = 2_000_000

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ExtractionLimits:
        return cls(
            max_bytes=int(options.get("MAX_BYTES", cls.max_bytes)),
            max_pages=int(options.get("MAX_PAGES", cls.max_pages)),
            timeout=float(options.get("TIMEOUT", cls.timeout)),
            max_chars=int(options.get("MAX_CHARS", cls.max_chars)),
        )


class Deadline:
    """Cooperative time limit, checked between pages/paragraphs."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise ExtractionError("timeout", f"over {self.seconds:g} s")


class BaseTextExtractor(abc.ABC):
    """Turns a file into pages of text within :class:`ExtractionLimits`."""

    #: lower-case file extensions (without the dot) this extractor reads
    extensions: tuple[str, ...] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self.limits = ExtractionLimits.from_options(self.options)

    def handles(self, filename: str) -> bool:
        return filename.rsplit(".", 1)[-1].lower() in self.extensions if "." in filename else False

    def extract(self, fileobj: BinaryIO, filename: str) -> list[ExtractedPage]:
        """Read at most MAX_BYTES (+1 to detect overflow) and extract."""
        data = fileobj.read(self.limits.max_bytes + 1)
        return self.extract_bytes(data, filename)

    def extract_bytes(self, data: bytes, filename: str) -> list[ExtractedPage]:
        if len(data) > self.limits.max_bytes:
            raise ExtractionError("too_large", f"{filename}: over {self.limits.max_bytes} bytes")
        pages = self._extract(data, filename, Deadline(self.limits.timeout))
        total = 0
        out = []
        for page in pages:
            total += len(page.text)
            if total > self.limits.max_chars:
                raise ExtractionError("too_much_text", f"{filename}: over {self.limits.max_chars} characters")
            out.append(page)
        return out

    @abc.abstractmethod
    def _extract(self, data: bytes, filename: str, deadline: Deadline) -> list[ExtractedPage]:
        """Parse ``data``; raise ExtractionError for any failure."""
