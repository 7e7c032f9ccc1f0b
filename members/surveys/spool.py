"""The inbox (a spool folder) between the public service and the CMS: one JSON file per accepted
submission. Pure Python: the public service (no Django) writes it, the CMS worker reads it.

Layout: ``<inbox>/*.json`` waiting; ``<inbox>/.tmp/`` files being written (then renamed into place:
a reader never sees half a file); ``<inbox>/imported/`` and ``<inbox>/rejected/`` what the import moved
aside (kept, never deleted: nothing is lost).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

TMP, IMPORTED, REJECTED = ".tmp", "imported", "rejected"
KEY_CHARS = frozenset("0123456789abcdef-")


def write(inbox: str | os.PathLike[str], page_id: int, data: dict[str, Any]) -> str:
    """Write one submission atomically (temp file, fsync, rename) and return its key."""
    root = Path(inbox)
    tmp_dir = root / TMP
    tmp_dir.mkdir(parents=True, exist_ok=True)
    received = time.time()
    key = f"{int(received * 1000):013d}-{uuid.uuid4().hex}"
    record = {"key": key, "page_id": int(page_id), "received_at": received, "data": data}
    tmp = tmp_dir / f"{key}.json"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / f"{key}.json")
    return key


def waiting(inbox: str | os.PathLike[str]) -> list[Path]:
    """The submissions waiting, oldest first (keys start with the time in milliseconds)."""
    root = Path(inbox)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*.json") if p.is_file())


def move_aside(path: Path, folder: str) -> Path:
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    return target
