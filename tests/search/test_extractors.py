"""Text extractors: PDF per page, DOCX; hostile or malformed files are skipped with a reason."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from pypdf import PdfWriter

from media.extractors.base import ExtractionError
from media.extractors.default import DefaultTextExtractor


def pdf_with_text(pages: list[str]) -> bytes:
    """A minimal valid PDF whose pages show ``pages`` (ASCII) in Helvetica."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_no = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_no
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "表格单元"
    table.rows[0].cells[1].text = "第二格"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture
def extractor():
    return DefaultTextExtractor({"MAX_BYTES": 2_000_000, "MAX_PAGES": 5, "TIMEOUT": 10})


def test_pdf_text_page_by_page(extractor):
    pages = extractor.extract_bytes(pdf_with_text(["first page", "second page"]), "a.pdf")
    assert [(p.number, p.text) for p in pages] == [(1, "first page"), (2, "second page")]


def test_docx_paragraphs_and_tables(extractor):
    (page,) = extractor.extract(io.BytesIO(docx_bytes(["三会一课的要求", "第二段"])), "b.docx")
    assert page.number is None
    assert "三会一课的要求" in page.text and "表格单元 第二格" in page.text


def test_plain_text_in_gb18030(extractor):
    (page,) = extractor.extract_bytes("党建书苑".encode("gb18030"), "c.txt")
    assert page.text == "党建书苑"


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"not a pdf at all", "x.pdf", "malformed"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "truncated.pdf", "malformed"),
        (b"\x00" * 100, "x.docx", "malformed"),
        (b"PK\x03\x04garbage", "y.docx", "malformed"),
        (b"x" * 3_000_000, "big.pdf", "too_large"),
        (b"whatever", "movie.mp4", "unsupported"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(extractor, data, name, reason):
    with pytest.raises(ExtractionError) as info:
        extractor.extract_bytes(data, name)
    assert info.value.reason == reason


def test_page_limit(extractor):
    with pytest.raises(ExtractionError) as info:
        extractor.extract_bytes(pdf_with_text([f"p{i}" for i in range(6)]), "long.pdf")
    assert info.value.reason == "too_many_pages"


def test_time_limit():
    slow = DefaultTextExtractor({"TIMEOUT": 0})
    with pytest.raises(ExtractionError) as info:
        slow.extract_bytes(pdf_with_text(["a", "b"]), "a.pdf")
    assert info.value.reason == "timeout"


def test_encrypted_pdf():
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(ExtractionError) as info:
        DefaultTextExtractor().extract_bytes(buf.getvalue(), "locked.pdf")
    assert info.value.reason == "encrypted"


def test_zip_bomb_docx_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\x00" * 50_000_000)
    extractor = DefaultTextExtractor({"MAX_BYTES": 1_000_000})
    with pytest.raises(ExtractionError) as info:
        extractor.extract_bytes(buf.getvalue(), "bomb.docx")
    assert info.value.reason == "too_large"


def test_isolated_mode_returns_the_same_pages():
    isolated = DefaultTextExtractor({"ISOLATE": True, "TIMEOUT": 20})
    pages = isolated.extract_bytes(pdf_with_text(["hello"]), "a.pdf")
    assert pages[0].text == "hello"
    with pytest.raises(ExtractionError):
        isolated.extract_bytes(b"junk", "a.pdf")
