"""The default extractor: picks PDF, DOCX or plain text by file extension.

OPTIONS (all optional): MAX_BYTES, MAX_PAGES, TIMEOUT (seconds), MAX_CHARS, and
ISOLATE: run the parser in a forked child process that is killed when TIMEOUT
passes (a hard limit, for parsers stuck inside one page); without it the limit
is checked between pages.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from typing import Any

from media.extractors.base import BaseTextExtractor, Deadline, ExtractedPage, ExtractionError
from media.extractors.docx import DocxTextExtractor
from media.extractors.pdf import PdfTextExtractor
from media.extractors.text import PlainTextExtractor


class DefaultTextExtractor(BaseTextExtractor):
    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.isolate = bool(self.options.get("ISOLATE", False))
        self.delegates: list[BaseTextExtractor] = [
            PdfTextExtractor(options),
            DocxTextExtractor(options),
            PlainTextExtractor(options),
        ]
        self.extensions = tuple(ext for d in self.delegates for ext in d.extensions)

    def _delegate(self, filename: str) -> BaseTextExtractor:
        for delegate in self.delegates:
            if delegate.handles(filename):
                return delegate
        raise ExtractionError("unsupported", filename)

    def extract_bytes(self, data: bytes, filename: str) -> list[ExtractedPage]:
        delegate = self._delegate(filename)
        if len(data) > self.limits.max_bytes:
            raise ExtractionError("too_large", f"{filename}: over {self.limits.max_bytes} bytes")
        if not self.isolate:
            return delegate.extract_bytes(data, filename)
        return _run_isolated(delegate, data, filename, self.limits.timeout)

    def _extract(self, data: bytes, filename: str, deadline: Deadline) -> list[ExtractedPage]:
        return self._delegate(filename)._extract(data, filename, deadline)


def _child(conn, delegate: BaseTextExtractor, data: bytes, filename: str) -> None:
    try:
        conn.send(("ok", delegate.extract_bytes(data, filename)))
    except ExtractionError as exc:
        conn.send(("error", (exc.reason, exc.detail)))
    finally:
        conn.close()


def _run_isolated(delegate: BaseTextExtractor, data: bytes, filename: str, timeout: float) -> list[ExtractedPage]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, delegate, data, filename), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise ExtractionError("timeout", f"{filename}: over {timeout:g} s")
        status, payload = parent.recv()
    except EOFError as exc:
        raise ExtractionError("malformed", f"{filename}: extractor process died") from exc
    finally:
        if process.is_alive():
            process.kill()
        process.join(1)
        parent.close()
    if status == "error":
        raise ExtractionError(*payload)
    return payload


TextExtractor = DefaultTextExtractor
