"""Generated demo images and documents, so the demo needs no files from the internet."""

from __future__ import annotations

import functools
import io
import math
import random
import shutil
import subprocess

from PIL import Image, ImageDraw, ImageFont

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


# The theme's colours: 党建 red, a deep red, gold and a warm paper white.
RED, DEEP, GOLD, PAPER = (179, 22, 27), (122, 12, 16), (232, 184, 76), (253, 246, 232)
LAYOUTS = ("stripe", "seal", "frame", "pattern")


@functools.cache
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs, found by fontconfig at run time (None without fontconfig or such a font)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh-cn", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip())
    return files[0] if files else None


def _font(size: int):
    path = cjk_font_path()
    return ImageFont.truetype(path, size) if path else None


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (CJK text breaks between any two characters)."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _star(draw, cx: float, cy: float, r: float, fill) -> None:
    points = []
    for k in range(10):
        a = math.pi / 2 + k * math.pi / 5
        radius = r if k % 2 == 0 else r * 0.382
        points.append((cx + radius * math.cos(a), cy - radius * math.sin(a)))
    draw.polygon(points, fill=fill)


def make_poster(title: str, kicker: str = "", index: int = 0, width: int = 1200, height: int = 675) -> bytes:
    """A title poster in the theme's red and gold: the layout (stripe, seal, frame or pattern) and its
    details follow from ``index``, so the same call always draws the same picture. Without a CJK font
    the poster keeps its design and leaves the words out."""
    rng = random.Random(f"{index}:{title}")
    layout = LAYOUTS[index % len(LAYOUTS)]
    image = Image.new("RGB", (width, height), RED if layout != "frame" else PAPER)
    draw = ImageDraw.Draw(image)
    ink, accent = PAPER, GOLD
    text_box = (100, 170, width - 100, height - 120)
    if layout == "stripe":
        for y in range(height):  # red deepening downwards
            t = y / height
            draw.line([(0, y), (width, y)], fill=tuple(int(RED[i] * (1 - t) + DEEP[i] * t) for i in range(3)))
        for k in range(4):
            y = height - 150 + k * 26
            draw.polygon([(0, y), (width, y - 120), (width, y - 108), (0, y + 12)], fill=GOLD if k % 2 == 0 else DEEP)
        _star(draw, 120, 110, 46, GOLD)
        text_box = (210, 80, width - 90, height - 230)
    elif layout == "seal":
        draw.rectangle([0, 0, width, height], fill=DEEP)
        cx, cy, r = width - 230, height // 2, 170
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=GOLD, width=10)
        draw.ellipse([cx - r + 24, cy - r + 24, cx + r - 24, cy + r - 24], outline=GOLD, width=3)
        _star(draw, cx, cy, 92, GOLD)
        for k in range(rng.randint(10, 16)):  # rays
            a = 2 * math.pi * k / 16
            draw.line([(cx + (r + 20) * math.cos(a), cy + (r + 20) * math.sin(a)),
                       (cx + (r + 60) * math.cos(a), cy + (r + 60) * math.sin(a))], fill=RED, width=6)
        text_box = (80, 140, width - 2 * r - 110, height - 140)
    elif layout == "frame":
        ink, accent = DEEP, RED
        draw.rectangle([28, 28, width - 28, height - 28], outline=RED, width=14)
        draw.rectangle([52, 52, width - 52, height - 52], outline=GOLD, width=4)
        for x, y in ((52, 52), (width - 52, 52), (52, height - 52), (width - 52, height - 52)):
            draw.rectangle([x - 18, y - 18, x + 18, y + 18], fill=RED)
        draw.rectangle([0, height - 150, width, height - 120], fill=RED)
        _star(draw, width // 2, 120, 34, RED)
        text_box = (120, 190, width - 120, height - 180)
    else:  # pattern: gold lattice on red
        step = rng.choice((60, 72, 90))
        for x in range(-height, width, step):
            draw.line([(x, 0), (x + height, height)], fill=(196, 48, 40), width=3)
            draw.line([(x + height, 0), (x, height)], fill=(196, 48, 40), width=3)
        draw.rectangle([90, 130, width - 90, height - 130], fill=DEEP, outline=GOLD, width=6)
        text_box = (140, 170, width - 140, height - 170)
    left, top, right, bottom = text_box
    if _font(20) is not None:
        y = top
        if kicker:
            small = _font(34)
            draw.text((left, y), kicker, font=small, fill=accent)
            y += 60
            draw.line([(left, y), (left + 120, y)], fill=accent, width=4)
            y += 30
        size = 64 if len(title) <= 14 else 54 if len(title) <= 28 else 44
        font = _font(size)
        for line in _wrap(draw, title, font, right - left, max(1, (bottom - y) // int(size * 1.35))):
            draw.text((left, y), line, font=font, fill=ink)
            y += int(size * 1.35)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
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
