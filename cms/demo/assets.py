"""Generated demo images and documents, so the demo needs no files from the internet."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

PALETTES = [
    ((179, 22, 27), (246, 196, 83)),
    ((140, 16, 21), (255, 236, 200)),
    ((38, 70, 120), (230, 200, 120)),
    ((60, 110, 70), (240, 230, 190)),
    ((120, 40, 60), (250, 210, 160)),
]


def make_image(index: int, width: int = 1200, height: int = 675) -> bytes:
    """A deterministic poster-like picture: a gradient, a sun and a skyline of blocks."""
    rng = random.Random(index)
    top, bottom = PALETTES[index % len(PALETTES)]
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    cx, cy, r = rng.randint(200, width - 200), rng.randint(120, 260), rng.randint(60, 110)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 220, 90))
    for k in range(5):  # a five-pointed star
        a = math.pi / 2 + k * 2 * math.pi / 5
        pts = [
            (cx + r * 0.6 * math.cos(a + j * 4 * math.pi / 5), cy - r * 0.6 * math.sin(a + j * 4 * math.pi / 5))
            for j in range(5)
        ]
        draw.polygon(pts, fill=(200, 30, 30))
    x = 0
    while x < width:
        w, h = rng.randint(40, 120), rng.randint(80, 320)
        draw.rectangle([x, height - h, x + w, height], fill=tuple(max(0, c - 60) for c in top))
        x += w + rng.randint(4, 20)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def make_docx(title: str, paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pdf(title: str, pages: list[list[str]]) -> bytes:
    """A PDF with real Chinese text (Adobe's standard CID font, so nothing is embedded)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(title)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        pdf.setFont("STSong-Light", 16)
        pdf.drawString(60, height - 70, title if number == 1 else f"{title}（续）")
        pdf.setFont("STSong-Light", 11)
        y = height - 110
        for line in lines:
            for start in range(0, len(line), 38):
                pdf.drawString(60, y, line[start : start + 38])
                y -= 18
                if y < 60:
                    break
        pdf.drawString(width / 2 - 10, 30, str(number))
        pdf.showPage()
    pdf.save()
    return out.getvalue()
