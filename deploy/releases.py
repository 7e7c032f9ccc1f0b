"""Releases and rollback: every publish that changes a target is a numbered release, and an earlier
release can be restored (``publish_site --rollback [RELEASE]``, or the admin's publish history).

Numbering. The number lives in the target's own manifest (``Manifest.release``): a publish makes release
``old.release + 1`` (or one more than the newest archived one) while it holds the target's lease, so two
runs never take the same number, and the number always names what the target holds: a run that failed
before committing its manifest used no number. The run notes it in ``PublishRun.changes["release"]``.

The archive. Restoring needs the bodies of a release's objects, which the target may no longer hold. They
are kept on the CMS side and never in the public target (everything under the target is public on the
CDN, and a page that was public then may be members-only or held by the secrecy review now). The Django
storage ``STORAGES[SHUYUAN_RELEASES_STORAGE]`` (default alias ``"releases"``; without that alias, the
private folder ``VAR_DIR/releases``) holds, per target, each uploaded body once by its SHA-256
(``blobs/``) and the manifest of each release (``releases/``). A publish archives what it uploads before
uploading it (``archive``), and keeps its manifest when done (``record``); the newest
``SHUYUAN_RELEASES_KEEP`` releases (default 10) stay restorable, older ones are collected with every body
no kept release uses. Releases published before the archive existed can't be restored where they differ.
A release that changes few entries (one edit) is kept as its difference from the release the target held
before it (``releases/<n>.delta.json.gz``: the entries set, the paths removed, and the entry counts that
the rebuilt manifest must match), so that it writes kilobytes whatever the size of the site; at most
``MAX_CHAIN`` deltas follow a release kept whole. A forgotten release that a kept delta is based on stays
in the archive, marked ``<n>.forgotten`` (not restorable, its bodies not kept for it), until no kept
release needs it.

Rollback. ``rollback()`` is a publish whose build is an archived release: it takes the lease like a publish
and runs the publisher's own steps (journal, assets before pages, manifest, deletions last, CDN purge of
exactly what changed), so it keeps the same order and crash guarantees, and it is a release itself. What
it would restore is screened against what is public *now* (``screen``): objects of pages that are not
public now, under their URLs, or files that are not public now stay deleted; an object whose old body
links to such a page or holds what the secrecy review stops (密级标志, identity numbers, sensitive words)
keeps its current version; and ``check_secrecy`` then checks the result like any build. Each object left
out is reported in the run's warnings. A rollback changes the site, not the CMS: the next publish still
publishes what the CMS holds for the pages it rebuilds (and pages public in the CMS but missing from the
site), so a page that must stay down is unpublished in the CMS too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InvalidStorageError, Storage, storages
from django.utils.translation import gettext as _
from django_tasks import task

from .affected import Plan
from .checks import check_secrecy
from .conf import publish_setting
from .manifest import JOURNAL_PATH, Entry, Manifest, RenderedObject, collect_unreferenced
from .models import PublishRun
from .publisher import Progress, Publisher, PublishResult
from .render import BuildOutput, output_path
from .targets import PublishTarget, get_target

logger = logging.getLogger("shuyuan.deploy")

STORAGE_SETTING = "SHUYUAN_RELEASES_STORAGE"
KEEP_SETTING = "SHUYUAN_RELEASES_KEEP"
DEFAULT_STORAGE = "releases"
DEFAULT_KEEP = 10
#: bodies archived one by one below this many, by a pool of threads from it
PARALLEL_PUTS = 64
#: the bodies no kept release uses are deleted every this many releases (listing the archive costs
#: more than one publish of a single edit should pay); forgetting old releases happens at every one
SWEEP_EVERY = 5
#: a release is kept as its difference from the release before it for at most this many releases in a
#: row (restoring reads the chain back to one kept whole), and only if it changes at most
#: 1/DELTA_MAX_SHARE of the entries
MAX_CHAIN = 32
DELTA_MAX_SHARE = 4
DELTA_VERSION = 1


class RollbackError(Exception):
    """The release can't be restored (unknown, collected, or bodies missing from the archive). Nothing
    was uploaded."""


# -- settings -----------------------------------------------------------------------------------------
def keep_count() -> int:
    keep = getattr(settings, KEEP_SETTING, DEFAULT_KEEP)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ImproperlyConfigured(f"{KEEP_SETTING} must be a whole number of releases, at least 1 (not {keep!r}).")
    return keep


def archive_storage() -> Storage:
    """The private storage of the archive (``ImproperlyConfigured`` naming the setting)."""
    alias = getattr(settings, STORAGE_SETTING, None)
    if alias is None:
        if DEFAULT_STORAGE not in settings.STORAGES:
            var = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var"))
            return FileSystemStorage(location=str(var / "releases"), base_url=None)
        alias = DEFAULT_STORAGE
    try:
        storage = storages[alias]
    except (InvalidStorageError, ImportError) as e:
        raise ImproperlyConfigured(f'{STORAGE_SETTING}: STORAGES["{alias}"] is not usable: {e}') from e
    _refuse_public(alias, storage)
    return storage


def _refuse_public(alias: str, storage: Storage) -> None:
    """The archive must not be, or be inside, the public target (nor hold it)."""
    from .targets import SETTING as TARGET_SETTING

    target_alias = (getattr(settings, TARGET_SETTING, None) or {}).get("OPTIONS", {}).get("STORAGE", "publish")
    if alias == target_alias:
        raise ImproperlyConfigured(f"{STORAGE_SETTING} names the publish storage: the archive must be private.")
    bucket = getattr(storage, "bucket_name", None)
    if bucket and bucket == getattr(_storage_or_none(target_alias), "bucket_name", None):
        raise ImproperlyConfigured(
            f"{STORAGE_SETTING}: the archive is in the published bucket {bucket!r}; keep it in a private one."
        )
    try:
        mine = Path(storage.path("")).resolve()
        public = Path(storages[target_alias].path("")).resolve()
    except (NotImplementedError, InvalidStorageError, ImportError, KeyError):
        return
    if mine == public or public in mine.parents or mine in public.parents:
        raise ImproperlyConfigured(
            f"{STORAGE_SETTING}: the archive folder {mine} overlaps the published folder {public}; "
            "everything under the published site is public, the archive must be kept apart."
        )


def _storage_or_none(alias: str) -> Storage | None:
    try:
        return storages[alias]
    except (InvalidStorageError, ImportError):
        return None


def check_settings() -> list[str]:
    """Problems with the release settings (for a start-up check): empty if none."""
    problems = []
    for fn in (keep_count, archive_storage):
        try:
            fn()
        except ImproperlyConfigured as e:
            problems.append(str(e))
    return problems


# -- the archive --------------------------------------------------------------------------------------
class Archive:
    """One target's part of the archive: bodies by SHA-256, and the manifests of its releases."""

    def __init__(self, storage: Storage, target_key: str) -> None:
        self.storage = storage
        self.root = "t-" + hashlib.sha256(target_key[:255].encode()).hexdigest()[:20]

    @classmethod
    def for_target(cls, target: PublishTarget) -> Archive:
        return cls(archive_storage(), target.key)

    def _blob(self, sha256: str) -> str:
        return f"{self.root}/blobs/{sha256[:2]}/{sha256}"

    def _release(self, number: int) -> str:
        return f"{self.root}/releases/{number:08d}.json.gz"

    def put(self, sha256: str, body: bytes) -> None:
        name = self._blob(sha256)
        if not self.storage.exists(name):
            self._save(name, body)

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """``put`` each (sha256, body), in parallel for a large build (the first failure is raised)."""
        items = list({sha: body for sha, body in items}.items())
        if len(items) < PARALLEL_PUTS:
            for sha, body in items:
                self.put(sha, body)
            return
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="archive") as pool:
            for future in [pool.submit(self.put, sha, body) for sha, body in items]:
                future.result()

    def get(self, sha256: str) -> bytes | None:
        """The body, or None if it is missing or damaged (a copy cut short is never restored)."""
        name = self._blob(sha256)
        try:
            with self.storage.open(name, "rb") as fh:
                body = fh.read()
        except FileNotFoundError:
            return None
        return body if hashlib.sha256(body).hexdigest() == sha256 else None

    def _save(self, name: str, body: bytes) -> None:
        saved = self.storage.save(name, ContentFile(body))
        if saved != name:  # the storage chose another name (it existed after all): keep one copy
            self.storage.delete(saved)

    def _replace(self, name: str, body: bytes) -> None:
        if self.storage.exists(name):
            self.storage.delete(name)
        self._save(name, body)

    def _delta(self, number: int) -> str:
        return f"{self.root}/releases/{number:08d}.delta.json.gz"

    def _forgotten(self, number: int) -> str:
        return f"{self.root}/releases/{number:08d}.forgotten"

    def _listing(self) -> tuple[set[int], set[int], set[int]]:
        """(releases kept whole, releases kept as a delta, releases forgotten but kept as a base)."""
        try:
            _dirs, files = self.storage.listdir(f"{self.root}/releases")
        except FileNotFoundError:
            return set(), set(), set()
        whole, deltas, forgotten = set(), set(), set()
        for f in files:
            stem, _dot, rest = f.partition(".")
            if not stem.isdigit():
                continue
            if rest == "json.gz":
                whole.add(int(stem))
            elif rest == "delta.json.gz":
                deltas.add(int(stem))
            elif rest == "forgotten":
                forgotten.add(int(stem))
        return whole, deltas, forgotten

    def numbers(self) -> list[int]:
        """The releases whose manifests are kept (restorable), oldest first."""
        whole, deltas, forgotten = self._listing()
        return sorted((whole | deltas) - forgotten)

    def save_manifest(
        self, number: int, manifest: Manifest, raw: bytes | None = None, *, base: int | None = None,
        base_manifest: Manifest | None = None,
    ) -> None:
        """Keep the manifest of release ``number`` (``raw``: its bytes, if already made).

        With ``base`` (a kept release) and ``base_manifest`` (what it holds), a release that differs from
        it in few entries is kept as the difference (``delta.json.gz``: the entries set and the paths
        removed), so a one-page release writes kilobytes, not the whole manifest; a chain of
        ``MAX_CHAIN`` deltas, or a delta as large as ``1/DELTA_MAX_SHARE`` of the manifest, is kept whole
        instead. A release kept whole also keeps the list of the bodies it uses (read when collecting)."""
        entries = manifest.entries
        if base is not None and base_manifest is not None and self._chain_length(base) < MAX_CHAIN:
            old = base_manifest.entries
            changed = [e for p, e in entries.items() if old.get(p) is not e and old.get(p) != e]
            removed = [p for p in old if p not in entries]
            if (len(changed) + len(removed)) * DELTA_MAX_SHARE <= max(len(entries), 1):
                delta = {
                    "version": DELTA_VERSION, "release": number, "base": base, "run_id": manifest.run_id,
                    "base_count": len(old), "count": len(entries), "set": [e.to_json() for e in changed], "removed": sorted(removed),
                }
                self._replace(self._delta(number), gzip.compress(json.dumps(delta).encode(), compresslevel=1))
                self._drop_whole(number)
                return
        if raw is None:
            raw = manifest.last_bytes() if manifest.release == number else None
        if raw is None:
            raw = Manifest(entries=entries, run_id=manifest.run_id, release=number).to_bytes(remember=False)
        shas = "\n".join(sorted({e.sha256 for e in entries.values()})).encode()
        self._replace(self._uses(number), gzip.compress(shas, compresslevel=1))
        self._replace(self._release(number), gzip.compress(raw, compresslevel=1))
        if self.storage.exists(self._delta(number)):
            self.storage.delete(self._delta(number))

    def _drop_whole(self, number: int) -> None:
        for name in (self._release(number), self._uses(number)):
            if self.storage.exists(name):
                self.storage.delete(name)

    def _uses(self, number: int) -> str:
        return f"{self.root}/releases/{number:08d}.uses.gz"

    def _read_delta(self, number: int) -> dict | None:
        try:
            with self.storage.open(self._delta(number), "rb") as fh:
                data = json.loads(gzip.decompress(fh.read()))
        except FileNotFoundError:
            return None
        if data.get("version") != DELTA_VERSION or data.get("release") != number:
            raise ValueError(f"unsupported release delta {number}")
        return data

    def _base_of(self, number: int) -> int | None:
        """The release a delta release is kept against (None: kept whole, or not kept)."""
        if self.storage.exists(self._release(number)):
            return None
        data = self._read_delta(number)
        return int(data["base"]) if data else None

    def _chain_length(self, number: int) -> int:
        """How many deltas lead from release ``number`` to a release kept whole (a large number if the
        chain is broken: the next release is then kept whole)."""
        length = 0
        while number is not None and length <= MAX_CHAIN:
            if self.storage.exists(self._release(number)):
                return length
            data = self._read_delta(number)
            if data is None:
                return MAX_CHAIN + 1
            number, length = int(data["base"]), length + 1
        return MAX_CHAIN + 1

    def _load(self, number: int, cache: dict[int, Manifest] | None = None) -> Manifest | None:
        """Release ``number``'s manifest, rebuilt from its delta chain (None if a link is missing or
        does not add up)."""
        cache = {} if cache is None else cache
        if number in cache:
            return cache[number]
        chain: list[dict] = []
        n: int | None = number
        found: Manifest | None = None
        while n is not None:
            if n in cache:
                found = cache[n]
                break
            try:
                with self.storage.open(self._release(n), "rb") as fh:
                    found = Manifest.parse(gzip.decompress(fh.read()))
                break
            except FileNotFoundError:
                pass
            data = self._read_delta(n)
            if data is None or len(chain) > MAX_CHAIN:
                return None
            chain.append(data)
            n = int(data["base"])
        if found is None:
            return None
        entries = dict(found.entries)
        result = found
        for data in reversed(chain):
            if len(entries) != data.get("base_count", len(entries)):
                return None
            for path in data["removed"]:
                entries.pop(path, None)
            for item in data["set"]:
                e = Entry.from_json(item)
                entries[e.path] = e
            if len(entries) != data["count"]:
                return None  # a delta against another state than its base's: not restorable
            result = Manifest(entries=dict(entries), run_id=data.get("run_id"), release=data["release"])
            cache[data["release"]] = result
        cache[number] = result
        return result

    def manifest(self, number: int) -> Manifest | None:
        if number in self._listing()[2]:
            return None  # forgotten (kept only as the base of a newer release's delta)
        return self._load(number)

    def _used_by(self, number: int, cache: dict[int, Manifest] | None = None) -> set[str]:
        if self.storage.exists(self._release(number)):
            try:
                with self.storage.open(self._uses(number), "rb") as fh:
                    return set(gzip.decompress(fh.read()).decode().split())
            except FileNotFoundError:
                pass
        kept = self._load(number, cache)
        return {e.sha256 for e in kept.entries.values()} if kept is not None else set()

    def collect(self, keep: int, sweep: bool = True) -> tuple[list[int], int]:
        """Forget all but the newest ``keep`` releases; with ``sweep``, also delete the bodies no kept
        release uses. Returns the releases forgotten and how many bodies were deleted.

        A forgotten release that a kept one is a delta against stays as its base (marked forgotten: it
        can't be restored), until no kept release needs it; its bodies count as used only if a kept
        release uses them."""
        whole, deltas, forgotten = self._listing()
        numbers = sorted((whole | deltas) - forgotten)
        kept = numbers[-keep:]
        dropped = numbers[:-keep] if len(numbers) > keep else []
        needed: set[int] = set()
        for n in kept:
            base = self._base_of(n) if n in deltas else None
            while base is not None and base not in needed and base not in kept:
                needed.add(base)
                base = self._base_of(base) if base in deltas else None
        for n in sorted(whole | deltas):
            if n in kept:
                continue
            if n in needed:
                if n not in forgotten:
                    self._save(self._forgotten(n), b"")
                continue
            self.storage.delete(self._release(n)) if n in whole else self.storage.delete(self._delta(n))
            for name in (self._uses(n), self._forgotten(n)):
                if self.storage.exists(name):
                    self.storage.delete(name)
        if not sweep:
            return dropped, 0
        used: set[str] = set()
        cache: dict[int, Manifest] = {}
        for n in kept:
            used |= self._used_by(n, cache)
        deleted = 0
        for name in self._blob_names():
            if name.rpartition("/")[2] not in used:
                self.storage.delete(name)
                deleted += 1
        return dropped, deleted

    def _blob_names(self) -> Iterator[str]:
        try:
            dirs, _files = self.storage.listdir(f"{self.root}/blobs")
        except FileNotFoundError:
            return
        for d in dirs:
            for f in self.storage.listdir(f"{self.root}/blobs/{d}")[1]:
                yield f"{self.root}/blobs/{d}/{f}"


def next_number(old: Manifest, archive: Archive) -> int:
    """The number of the release a publish is making (under the lease): one more than the target's, or
    than the newest archived one if the target lost its manifest."""
    numbers = archive.numbers()
    return max(old.release or 0, numbers[-1] if numbers else 0) + 1


# -- the publisher's two calls ------------------------------------------------------------------------
def archive(publisher: Publisher) -> None:
    """Before the upload: number the release this publish makes and keep the bodies it uploads (so that
    every object a committed manifest lists is in the archive). Safe to call twice."""
    store = Archive.for_target(publisher.target)
    publisher.new.release = next_number(publisher.old, store)
    bodies = publisher.out.objects
    uploads = [*publisher.result.diff.uploads, *publisher.repair]
    # a batch of bodies at a time: a build keeps them compressed (deploy.render.PackedObject), and
    # 100,000 pages decompressed at once would be about 1.5 GB
    for start in range(0, len(uploads), 1000):
        store.put_many((e.sha256, bodies[e.path].body) for e in uploads[start : start + 1000])


def record(publisher: Publisher) -> None:
    """After the publish: keep the release's manifest, note the release on its run, collect old
    releases. Safe to call twice."""
    number = publisher.new.release
    if number is None or release_of(publisher.run).get("number") == number:  # not archived, or recorded
        return
    store = Archive.for_target(publisher.target)
    old = publisher.old
    base = old.release if old.entries and old.release is not None and old.release != number else None
    try:
        store.save_manifest(number, publisher.new, base=base, base_manifest=old)
    except OSError as e:  # the site is published: say the release can't be restored, don't fail the run
        publisher.run.add_warnings([_("第 %(n)d 版的清单未能存档，无法回滚到这一版：%(error)s") % {"n": number, "error": e}])
        return
    info: dict = {"number": number}
    restored_from = getattr(publisher, "restored_from", None)
    if restored_from is not None:
        info["restored_from"] = restored_from
        info["left_out"] = len(getattr(publisher, "left_out", ()))
    publisher.run.changes = {**(publisher.run.changes or {}), "release": info}
    try:
        store.collect(keep_count(), sweep=number % SWEEP_EVERY == 0)
    except OSError as e:  # the next release collects again
        publisher.run.add_warnings([_("清理旧版本存档失败（下次发布时重试）：%(error)s") % {"error": e}])


def release_of(run: PublishRun) -> dict:
    """``{"number": n, "restored_from": m?, "left_out": k?}`` for a run that made a release, else {}."""
    info = (run.changes or {}).get("release")
    return info if isinstance(info, dict) else {}


# -- screening what a rollback restores ---------------------------------------------------------------
#: the secrecy scanner's findings that keep an old body off the site
STOPPING_FINDINGS = ("marker", "id_number", "sensitive_word")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/rss", "application/atom", "application/javascript")
_URLISH = re.compile(r"(?:https?:)?//[^/\s\"'<>\\]+(/[^\s\"'<>\\]*)|(/[^\s\"'<>\\]*)")


@dataclass
class Screened:
    """What a rollback may restore."""

    manifest: Manifest
    #: bodies of the objects to write (those that differ from the target's)
    bodies: dict[str, bytes] = field(default_factory=dict)
    #: (path, why) of each object of the release left out
    left_out: list[tuple[str, str]] = field(default_factory=list)


class _Now:
    """What is public now, worked out like ``deploy.checks`` does for a publish."""

    def __init__(self) -> None:
        from cms.secrecy.scanner import Vocabulary

        from .checks import hidden_dirs, independently_public_ids

        self.public = independently_public_ids()
        self.hidden_dirs = hidden_dirs(self.public)
        self.vocabulary = Vocabulary.load()
        self.withdrawn: set[str] = set()  # paths of objects left out because their page is not public

    def hard_reason(self, e: Entry, bad_files: set[str]) -> str:
        kind, _s, ident = e.group.partition(":")
        if kind in ("page", "feed") and ident.isdigit() and int(ident) not in self.public:
            return _("页面 %(page)s 现在不公开") % {"page": ident}
        if self._under_hidden(e.path):
            return _("位于现在不公开的页面的网址下")
        if e.path in bad_files:
            return _("文件现在不公开")
        return ""

    def _under_hidden(self, path: str) -> bool:
        i = path.find("/")
        while i != -1:
            if path[: i + 1] in self.hidden_dirs:
                return True
            i = path.find("/", i + 1)
        return False

    def body_reason(self, e: Entry, body: bytes) -> str:
        if not e.content_type.startswith(_TEXT_TYPES):
            return ""
        text = body.decode("utf-8", "replace")
        for link in _linked_paths(text):
            if link in self.withdrawn or self._under_hidden(link):
                return _("旧版本链接到现在不公开的页面（%(link)s）") % {"link": "/" + link}
        if "html" in e.content_type or "xml" in e.content_type:
            from cms.secrecy.scanner import scan_text

            for finding in scan_text(text, e.path, self.vocabulary):
                if finding.kind in STOPPING_FINDINGS:
                    return _("旧版本含保密审查不允许上网的内容（%(kind)s）") % {"kind": finding.kind_label}
        return ""


def _linked_paths(text: str) -> Iterator[str]:
    """Object paths of the absolute URLs and paths in a body (HTML, XML, JSON, scripts)."""
    for m in _URLISH.finditer(text.replace("\\/", "/")):
        url = m.group(1) or m.group(2)
        if len(url) > 1:
            yield output_path(unquote(urlsplit(url).path))


def _non_public_files(paths: Iterable[str], public: set[int]) -> set[str]:
    """Documents and image renditions among ``paths`` whose file is not public now."""
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    from .checks import _independently_public_files

    paths = set(paths)
    bad = set()
    docs = {p: int(p.split("/")[1]) for p in paths if re.match(r"documents/\d+/", p)}
    if docs:
        ok = _independently_public_files(get_document_model(), set(docs.values()), public)
        bad |= {p for p, d in docs.items() if d not in ok}
    media = (settings.MEDIA_URL or "/media/").strip("/") + "/"
    names = {p[len(media) :]: p for p in paths if p.startswith(media)}
    if names:
        image_model = get_image_model()
        renditions = image_model.get_rendition_model().objects.filter(file__in=list(names))
        image_of = dict(renditions.values_list("file", "image_id"))
        ok = _independently_public_files(image_model, set(image_of.values()), public)
        bad |= {path for name, path in names.items() if image_of.get(name) not in ok}
    return bad


def screen(
    release: Manifest,
    current: Manifest,
    store: Archive,
    overwritten: Iterable[str] = (),
    read: Callable[[str], bytes | None] | None = None,
) -> Screened:
    """What restoring ``release`` over ``current`` may write, re-checked against what is public now.

    ``read``: reads the target's current version of an object (when the archive lacks it). Raises
    ``RollbackError``, before anything is written, if a body to write is missing from the archive, or if
    neither the old nor the current version of an object may stay online (the target still shows a page
    that is not public any more: a publish must withdraw it first)."""
    now = _Now()
    overwritten = set(overwritten)
    bad_files = _non_public_files({*release.entries, *current.entries}, now.public)
    result = Screened(manifest=Manifest())
    known = {*release.entries, *current.entries}  # refs to objects that are not in either are not ours
    entries: dict[str, Entry] = {}
    for path, e in release.entries.items():
        why = now.hard_reason(e, bad_files)
        if why:
            result.left_out.append((path, why))
            now.withdrawn.add(path)
        else:
            entries[path] = e
    # the target shows objects of pages that are not public now (no publish since): its current versions
    # are not to be trusted either
    stale = any(now.hard_reason(e, bad_files) for e in current.entries.values())
    if stale:
        now.withdrawn |= {p for p, e in current.entries.items() if now.hard_reason(e, bad_files)}
    missing: list[str] = []
    unsafe: list[str] = []

    def current_body(cur: Entry) -> bytes | None:
        body = store.get(cur.sha256)
        return body if body is not None or read is None else read(cur.path)

    def keep_current(path: str) -> None:
        """The target's version stays, if it may (else the object goes)."""
        cur = current.entries.get(path)
        if cur is None or now.hard_reason(cur, bad_files) or not (set(cur.refs) & known) <= set(entries):
            entries.pop(path, None)
            return
        body = current_body(cur) if stale or path in overwritten else None
        if stale and now.body_reason(cur, body or b""):
            unsafe.append(path)
        entries[path] = cur
        result.bodies.pop(path, None)
        if path in overwritten and body is not None:  # a killed run may have left its own version there
            result.bodies[path] = body

    for path, e in list(entries.items()):
        cur = current.entries.get(path)
        if cur is not None and cur.same_object(e) and path not in overwritten:
            if stale and now.body_reason(e, current_body(cur) or b""):
                unsafe.append(path)
            continue
        body = store.get(e.sha256)
        if body is None:
            missing.append(path)
            continue
        why = now.body_reason(e, body)
        if why:
            result.left_out.append((path, why))
            keep_current(path)
        else:
            result.bodies[path] = body
    if missing:
        raise RollbackError(
            _("第 %(n)s 版无法恢复：存档中缺少 %(count)d 个文件（例如 %(example)s）")
            % {"n": release.release, "count": len(missing), "example": missing[0]}
        )
    # a page whose assets are not restored keeps its current version (or goes): never a missing link
    changed = True
    while changed:
        changed = False
        for path, e in list(entries.items()):
            if e.refs and not (set(e.refs) & known) <= set(entries):
                if e is not current.entries.get(path):
                    result.left_out.append((path, _("引用的文件未恢复")))
                before = entries.get(path)
                keep_current(path)
                changed = changed or entries.get(path) is not before
    if unsafe:
        raise RollbackError(
            _("第 %(n)s 版无法安全恢复：%(count)d 个文件（例如 %(example)s）的旧版本和现在的版本都链接到或含有"
              "现在不公开的内容。请先发布一次撤下这些内容，再回滚。")
            % {"n": release.release, "count": len(unsafe), "example": unsafe[0]}
        )
    entries = collect_unreferenced(entries)
    result.bodies = {p: b for p, b in result.bodies.items() if p in entries}
    result.manifest = Manifest(entries=entries)
    return result


# -- rolling back -------------------------------------------------------------------------------------
class RollbackPublisher(Publisher):
    """A publish whose build is an archived release (see the module docstring). Never consumes the
    pending changes: the CMS still holds them."""

    def __init__(self, run, target, lease, *, number: int | None = None, **kwargs) -> None:
        kwargs.pop("primary", None)
        super().__init__(run, target, lease, primary=False, **kwargs)
        self.number = number
        self.store = Archive.for_target(target)
        self.restored_from: int | None = None
        self.release_manifest = Manifest()
        self.left_out: list[tuple[str, str]] = []

    def publish(self, full: bool = False) -> PublishResult:
        self.recover()
        self.plan(False)
        self.build()
        self.check()
        self.diff()
        if self.dry_run:
            return self.stop(PublishRun.Status.DRY_RUN)
        if not self.has_work:
            self.stop(PublishRun.Status.NOTHING)
            if self.leftovers.journal:
                self.target.delete_many([JOURNAL_PATH])
            return self.result
        self.upload()
        self.commit()
        self.delete()
        self.purge()
        self.record()
        return self.result

    def plan(self, full: bool) -> Plan:
        """Which release: the one named, or the one before the release the target holds."""
        number = self.number if self.number else previous_release(self.target, self.old, self.store)
        manifest = self.store.manifest(number) if number else None
        if manifest is None:
            raise RollbackError(
                _("第 %(n)s 版无法恢复：它不在存档中（只保留最近 %(keep)d 个版本）") % {"n": number, "keep": keep_count()}
                if number else _("没有可以回滚到的更早版本")
            )
        if number == self.old.release:
            raise RollbackError(_("目标现在就是第 %(n)d 版") % {"n": number})
        self.restored_from, self.release_manifest = number, manifest
        plan = Plan(reasons=[_("回滚到第 %(n)d 版") % {"n": number}])
        self.run.note_plan(plan)
        self.run.purge_failed = bool(self.leftovers.purge)
        self.result.plan = plan
        self.phase("plan")
        return plan

    def build(self) -> None:
        """The release, screened against what is public now; bodies from the archive."""
        screened = screen(
            self.release_manifest, self.old, self.store, self.leftovers.overwritten, read=self.target.read
        )
        self.left_out = screened.left_out
        self.out = BuildOutput()
        for path, body in screened.bodies.items():
            e = screened.manifest.entries[path]
            self.out.add(RenderedObject(
                path=path, body=body, content_type=e.content_type, cache_control=e.cache_control, kind=e.kind,
                group=e.group, url=e.url, refs=e.refs, _sha256=e.sha256,
            ))
        self.new = screened.manifest
        self.new.run_id = self.run.pk
        self.run.add_warnings(
            (_("回滚未恢复 %(path)s：%(why)s") % {"path": p, "why": why} for p, why in self.left_out[:100]), limit=300
        )
        self.phase("restore")

    def check(self) -> None:
        """The same secrecy check as a publish's, on the manifest the rollback would commit."""
        check_secrecy(self.new)
        self.phase("check")

    def upload(self) -> None:
        archive(self)  # (the publisher calls it too, once patched: both calls are idempotent)
        super().upload()

    def record(self) -> None:
        super().record()
        record(self)


def previous_release(target: PublishTarget, current: Manifest, store: Archive) -> int | None:
    """The newest kept release before the one the target holds (before the release a rollback restored,
    if the target holds a rollback: rolling back twice steps further back)."""
    base = current.release
    if base is None:
        numbers = store.numbers()
        return numbers[-1] if numbers else None
    run = PublishRun.objects.filter(pk=current.run_id).first() if current.run_id else None
    base = release_of(run).get("restored_from", base) if run else base
    earlier = [n for n in store.numbers() if n < base]
    return earlier[-1] if earlier else None


def rollback(
    number: int | None = None,
    *,
    target: PublishTarget | None = None,
    folder=None,
    user=None,
    trigger: str = "command",
    dry_run: bool = False,
    allow_mass_delete: bool = False,
    progress: Progress | None = None,
    wait: float = 0,
    on_wait=None,
) -> PublishResult:
    """Restore release ``number`` (default: the previous one) on the target, holding its publish lease
    like a publish (``PublishBusy`` after ``wait`` seconds). Recorded in the publish history."""
    from .service import run_with_lease

    target = target or get_target(folder)
    keep_count()

    def make(run, lease):
        return RollbackPublisher(
            run, target, lease, number=number, dry_run=dry_run, progress=progress, allow_mass_delete=allow_mass_delete
        )

    def run_it(publisher: RollbackPublisher) -> PublishResult:
        try:
            return publisher.publish()
        except Exception as exc:
            # the history says, in words an operator reads, that a rollback failed and why (the
            # traceback goes into ``error`` as for any publish)
            name = publisher.restored_from or number
            publisher.run.reason = (
                _("回滚到第 %(n)s 版失败：%(why)s") % {"n": name, "why": exc} if name else _("回滚失败：%(why)s") % {"why": exc}
            )[:2000]
            publisher.run.changes = {**(publisher.run.changes or {}), "rollback": {"number": name, "outcome": "failed"}}
            raise

    return run_with_lease(target, make, run_it, trigger=trigger, user=user, wait=wait, on_wait=on_wait)


def record_refused(number: int | None, *, target: PublishTarget, user, trigger: str, waited: float, why: str) -> PublishRun:
    """A rollback that never started (another publish held the target's lease for as long as it would
    wait) as a failed run in the publish history, so the operator who asked sees it was not done."""
    from django.utils import timezone

    what = _("第 %(n)d 版") % {"n": number} if number else _("上一版")
    reason = _("回滚到%(what)s未执行：另一个发布一直占用发布目标，等待 %(s)d 秒后放弃；回滚不会自动重试，请在它结束后重新回滚。") % {
        "what": what, "s": round(waited)}
    now = timezone.now()
    return PublishRun.objects.create(
        status=PublishRun.Status.FAILED,
        mode=PublishRun.Mode.FULL,
        trigger=trigger,
        target=target.describe()[:500],
        requested_by=user if getattr(user, "pk", None) else None,
        lock_name=target.key[:255],
        started_at=now,
        finished_at=now,
        duration_ms=int(waited * 1000),
        reason=reason,
        error=f"PublishBusy: {why}"[:20000],
        changes={"rollback": {"number": number, "outcome": "refused"}},
    )


@dataclass
class ReleaseInfo:
    number: int
    run: PublishRun | None
    restorable: bool
    current: bool


def releases_of(target: PublishTarget, limit: int = 50) -> list[ReleaseInfo]:
    """The target's releases, newest first (those its runs recorded, and the archived ones)."""
    store = Archive.for_target(target)
    kept = set(store.numbers())
    runs = {}
    for run in PublishRun.objects.filter(lock_name=target.key[:255], status=PublishRun.Status.SUCCEEDED)[: limit * 4]:
        number = release_of(run).get("number")
        if number is not None:
            runs.setdefault(number, run)
    current = max(runs) if runs else None
    numbers = sorted(kept | set(runs), reverse=True)[:limit]
    return [ReleaseInfo(n, runs.get(n), n in kept, n == current) for n in numbers]


#: how long the admin's rollback waits for a running publish, in leases (``LOCK_TTL``)
ROLLBACK_WAIT_LEASES = 4


@task()
def rollback_task(number: int, user_id: int | None = None) -> dict:
    """The admin's "roll back to this release": waits for a running publish up to ``ROLLBACK_WAIT_LEASES``
    leases, then gives up, recording the refusal in the publish history (``record_refused``). It is not
    retried later: a rollback applied long after it was asked for could undo a newer publish."""
    from django.contrib.auth import get_user_model

    from .service import PublishBusy

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    wait = ROLLBACK_WAIT_LEASES * float(publish_setting("LOCK_TTL"))
    try:
        result = rollback(number, user=user, trigger="admin", wait=wait)
    except PublishBusy as exc:
        run = record_refused(number, target=get_target(), user=user, trigger="admin", waited=wait, why=str(exc))
        logger.warning("rollback to release %s not done: %s", number, exc)
        return {"status": run.status, "run": run.pk, "error": run.reason}
    return {"status": result.run.status, "run": result.run.pk}


__all__ = [
    "Archive",
    "RollbackError",
    "RollbackPublisher",
    "archive",
    "record",
    "record_refused",
    "rollback",
    "screen",
]
