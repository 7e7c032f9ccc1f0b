"""The manifest: the list of every object the published site consists of.

The manifest is the only source of truth about what is in the target. Publishing compares a new build
with the last manifest and uploads only the difference; it never asks the store for ETags (many
S3-compatible stores, and encrypted buckets, don't compute them as an MD5 of the body). It is stored in
the target itself (``_shuyuan/manifest.json``) so that a target carries its own history, and it is
written only after every object it lists has been uploaded.

Each entry belongs to a *group*: the unit that incremental publishing rebuilds as a whole (``page:12``
is page 12 with all its pagination pages, ``feed:12`` its feeds, ``sitemap:zh-hans``...). Rebuilding a
group replaces every entry of that group, so a page that disappeared (unpublished, restricted, deleted)
simply leaves no entry behind and its objects are deleted. Media assets (renditions, documents) are
shared between pages: a page entry lists the assets it references in ``refs``, and assets no entry
references any more are collected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

MANIFEST_PATH = "_shuyuan/manifest.json"
JOURNAL_PATH = "_shuyuan/journal.json"
FORMAT_VERSION = 1

#: object kinds, in upload order: assets first so that no page ever links to a missing asset.
KIND_ASSET = "asset"
KIND_PAGE = "page"

#: groups whose entries are collected by reference counting instead of being rebuilt as a unit.
REFERENCED_ASSET_GROUP = "ref"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One published object, as recorded in the manifest."""

    path: str
    sha256: str
    size: int
    content_type: str
    cache_control: str
    kind: str = KIND_PAGE
    group: str = ""
    url: str = ""
    refs: tuple[str, ...] = ()

    def same_object(self, other: Entry) -> bool:
        """Would uploading ``other`` over this object change anything a visitor can observe?"""
        return (
            self.sha256 == other.sha256
            and self.content_type == other.content_type
            and self.cache_control == other.cache_control
        )

    def to_json(self) -> dict:
        data = {
            "path": self.path, "sha256": self.sha256, "size": self.size, "content_type": self.content_type,
            "cache_control": self.cache_control, "kind": self.kind, "group": self.group, "url": self.url,
        }
        if self.refs:
            data["refs"] = list(self.refs)
        return data

    @classmethod
    def from_json(cls, data: Mapping) -> Entry:
        return cls(**{**data, "refs": tuple(data.get("refs", ()))})


@dataclass(slots=True)
class RenderedObject:
    """An object produced by a build, with its body, before it becomes a manifest entry."""

    path: str
    body: bytes
    content_type: str
    cache_control: str
    kind: str = KIND_PAGE
    group: str = ""
    url: str = ""
    refs: tuple[str, ...] = ()
    _sha256: str = ""

    @property
    def sha256(self) -> str:
        if not self._sha256:
            self._sha256 = sha256_hex(self.body)
        return self._sha256

    def entry(self) -> Entry:
        return Entry(
            path=self.path,
            sha256=self.sha256,
            size=len(self.body),
            content_type=self.content_type,
            cache_control=self.cache_control,
            kind=self.kind,
            group=self.group,
            url=self.url,
            refs=tuple(sorted(set(self.refs))),
        )


@dataclass(slots=True)
class Manifest:
    entries: dict[str, Entry] = field(default_factory=dict)
    run_id: int | None = None
    created_at: str = ""
    #: deletions and purges decided by a run that were not yet confirmed done; the next run finishes them.
    pending_deletions: list[str] = field(default_factory=list)
    pending_purge: list[str] = field(default_factory=list)
    #: the release this manifest describes, numbered per target (``deploy.releases``); None before releases
    release: int | None = None

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], **kwargs) -> Manifest:
        return cls(entries={e.path: e for e in entries}, **kwargs)

    def groups(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for e in self.entries.values():
            out.setdefault(e.group, []).append(e)
        return out

    def to_bytes(self, remember: bool = True) -> bytes:
        """The manifest's JSON. ``remember``: this is what the target will hold, so ``from_bytes`` may
        answer from it next time (not for copies kept elsewhere, such as an archived release)."""
        data = {
            "version": FORMAT_VERSION,
            "run_id": self.run_id,
            "created_at": self.created_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "pending_deletions": sorted(self.pending_deletions),
            "pending_purge": sorted(self.pending_purge),
            "entries": [],
        }
        if self.release is not None:
            data["release"] = self.release
        # json.dumps(data) with each entry's text reused from the manifest this process serialised last
        # when it is the very same entry (an incremental publish keeps every entry object but the few it
        # rebuilt: only those are serialised)
        global _ENTRY_TEXT, _ENTRY_OF_TEXT, _JOINED
        known_entry, known_text = _ENTRY_OF_TEXT.get, _ENTRY_TEXT.get
        if not (
            len(self.entries) == len(_ENTRY_OF_TEXT) and all(known_entry(p) is e for p, e in self.entries.items())
        ):  # (the same entries again, e.g. written once more without the finished deletions: as they were)
            paths = sorted(self.entries)
            entries = list(map(self.entries.__getitem__, paths))
            texts = [
                known_text(p) if known_entry(p) is e else _ENCODER.encode(e.to_json())
                for p, e in zip(paths, entries, strict=True)
            ]
            _ENTRY_TEXT, _ENTRY_OF_TEXT = dict(zip(paths, texts, strict=True)), dict(zip(paths, entries, strict=True))
            _JOINED = ",".join(texts)
        head, tail = json.dumps(data, ensure_ascii=False, separators=(",", ":")).split('"entries":[]', 1)
        raw = (head + '"entries":[' + _JOINED + "]" + tail).encode()
        if not remember:
            return raw
        # what from_bytes() will parse when this process reads the manifest back next time
        global _LAST
        _LAST = raw, Manifest(
            entries=dict(_ENTRY_OF_TEXT),
            run_id=self.run_id,
            created_at=data["created_at"],
            pending_deletions=data["pending_deletions"],
            pending_purge=data["pending_purge"],
            release=self.release,
        )
        return raw

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Manifest:
        if not raw:
            return cls()
        # A publishing process reads back the manifest it wrote (or read) last time: parsing 10,000
        # entries takes ~40 ms, comparing the bytes with the last ones ~0.1 ms.
        global _LAST
        if _LAST is None or _LAST[0] != raw:
            _LAST = raw, cls._parse(raw)
        cached = _LAST[1]
        return cls(
            entries=dict(cached.entries),
            run_id=cached.run_id,
            created_at=cached.created_at,
            pending_deletions=list(cached.pending_deletions),
            pending_purge=list(cached.pending_purge),
            release=cached.release,
        )

    @classmethod
    def _parse(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported manifest version {data.get('version')!r}")
        return cls(
            entries={e["path"]: Entry.from_json(e) for e in data["entries"]},
            run_id=data.get("run_id"),
            created_at=data.get("created_at", ""),
            pending_deletions=list(data.get("pending_deletions", ())),
            pending_purge=list(data.get("pending_purge", ())),
            release=data.get("release"),
        )

    def last_bytes(self) -> bytes | None:
        """The bytes ``to_bytes`` made last in this process, if they are of this very manifest (no need to
        serialise it again)."""
        if _LAST is None:
            return None
        last = _LAST[1]
        if (last.run_id, last.release, len(last.entries)) != (self.run_id, self.release, len(self.entries)):
            return None
        same = all(last.entries.get(p) is e for p, e in self.entries.items())
        return _LAST[0] if same else None

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        """Parse without touching the cache of the target's last manifest (for archived manifests)."""
        return cls._parse(raw) if raw else cls()


#: the manifest bytes this process wrote or read last, and what they parse to
_LAST: tuple[bytes, Manifest] | None = None
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: {path: JSON text} and {path: entry} of the manifest this process serialised last
_ENTRY_TEXT: dict[str, str] = {}
_ENTRY_OF_TEXT: dict[str, Entry] = {}
#: their texts joined, in path order
_JOINED = ""


@dataclass(slots=True)
class Diff:
    """What a publish has to do to turn the old manifest into the new one."""

    added: list[Entry]
    changed: list[Entry]
    removed: list[Entry]
    unchanged: int

    @property
    def uploads(self) -> list[Entry]:
        """Objects to upload in a safe order: assets before pages, new objects before changed ones.

        New pages go before changed pages so that a changed listing never links to an article
        that is not there yet.
        """
        order = {KIND_ASSET: 0, KIND_PAGE: 1}
        tagged = [(order.get(e.kind, 1), 0, e.path, e) for e in self.added]
        tagged += [(order.get(e.kind, 1), 1, e.path, e) for e in self.changed]
        return [t[-1] for t in sorted(tagged, key=lambda t: t[:3])]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def purge_urls(self) -> list[str]:
        """The public URLs whose cached copies are stale: changed and removed objects (not new ones)."""
        return sorted({e.url or "/" + e.path for e in (*self.changed, *self.removed)})


def diff(old: Manifest, new: Manifest) -> Diff:
    added, changed, removed = [], [], []
    unchanged = 0
    for path, entry in new.entries.items():
        previous = old.entries.get(path)
        if previous is None:
            added.append(entry)
        elif previous.same_object(entry):
            unchanged += 1
        else:
            changed.append(entry)
    for path, entry in old.entries.items():
        if path not in new.entries:
            removed.append(entry)
    return Diff(added=added, changed=changed, removed=removed, unchanged=unchanged)


def merge(old: Manifest, rebuilt_groups: Iterable[str], rendered: Iterable[Entry]) -> Manifest:
    """The manifest after an incremental build.

    Every entry of a rebuilt group is replaced by what the build produced for it (possibly nothing);
    other entries are kept. Referenced assets no entry refers to any more are dropped.
    """
    rebuilt = set(rebuilt_groups)
    entries = {p: e for p, e in old.entries.items() if e.group not in rebuilt}
    for e in rendered:
        entries[e.path] = e
    return Manifest(entries=collect_unreferenced(entries))


def collect_unreferenced(entries: dict[str, Entry]) -> dict[str, Entry]:
    referenced: set[str] = set()
    for e in entries.values():
        referenced.update(e.refs)
    return {
        p: e for p, e in entries.items() if e.group != REFERENCED_ASSET_GROUP or p in referenced
    }
