"""Upload validation: accept files by what they contain, not by what they are called.

A renamed executable called ``报告.pdf`` is refused; so is an image whose pixel count would make
Pillow allocate gigabytes (a decompression bomb).
"""

from __future__ import annotations

import zipfile

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image

# What each allowed document extension must look like inside.
DOCUMENT_KINDS: dict[str, set[str]] = {
    "pdf": {"application/pdf"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
    "pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"},
    "doc": {"application/x-ole-storage", "application/msword"},
    "zip": {"application/zip"},
    "mp3": {"audio/mpeg"},
    "m4a": {"audio/mp4", "audio/x-m4a", "video/mp4"},
    "mp4": {"video/mp4"},
}
OOXML_MARKERS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def install_pillow_limits() -> None:
    """Make Pillow refuse decompression bombs outright instead of only warning."""
    Image.MAX_IMAGE_PIXELS = settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS


def sniff(head: bytes) -> str | None:
    if head.startswith(OLE_MAGIC):
        return "application/x-ole-storage"
    kind = filetype.guess(head)
    return kind.mime if kind else None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def validate_document_file(file) -> None:
    """Raise ValidationError unless the file's content matches its extension."""
    name = getattr(file, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(8192)
    file.seek(position)
    if ext == "txt":
        if not _looks_like_text(head[:4096] if len(head) < 4096 else head[:4000]):
            raise ValidationError(_("“%(name)s”不是纯文本文件。"), params={"name": name}, code="content")
        return
    allowed = DOCUMENT_KINDS.get(ext)
    if allowed is None:
        raise ValidationError(_("不接受 .%(ext)s 类型的文件。"), params={"ext": ext}, code="extension")
    mime = sniff(head)
    if mime not in allowed:
        raise ValidationError(
            _("“%(name)s”的内容不是 %(ext)s 文件（看起来是 %(mime)s）。"),
            params={"name": name, "ext": ext.upper(), "mime": mime or _("未知数据")},
            code="content",
        )
    if ext in OOXML_MARKERS:
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as zf:
                if not any(n.startswith(OOXML_MARKERS[ext]) for n in zf.namelist()):
                    raise ValidationError(
                        _("“%(name)s”是 zip 压缩包，不是 %(ext)s 文档。"),
                        params={"name": name, "ext": ext.upper()},
                        code="content",
                    )
        except zipfile.BadZipFile as exc:
            raise ValidationError(
                _("“%(name)s”已损坏，无法打开。"), params={"name": name}, code="content"
            ) from exc
        finally:
            file.seek(position)
