"""The exported public search bundle on disk, and how the service opens it (no Django).

Layout of the folder the export writes and the operator ships (``--index`` of the service)::

    DEST/CURRENT                  the live release's name (switched with one atomic rename)
    DEST/<release>/bundle.json    format, date, document count, the ids' digest, the dictionary
                                  (custom words, synonyms, stop and question words) and the
                                  ranking options the index was built with
    DEST/<release>/index/         the embedded engine's index (tantivy; search.backends.embedded)

Or, on Elasticsearch (``elasticsearch=`` options of :func:`write_release`): the public documents go
to their own alias on the cluster the service reads (a public-side cluster, written from inside like
the bucket), switched atomically by the engine's rebuild, and ``bundle.json`` names that alias
instead of holding an index; the service's address and read-only credentials for that cluster are
its own (``SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH_URL``), never in the bundle.

The service reads ``CURRENT`` at most every :data:`RELOAD_EVERY` seconds and opens a new release
when it changed, so shipping a new bundle (copy the release folder, then ``CURRENT``) needs no
restart. The dictionary travels with the index because the same segmentation must cut the queries
as cut the documents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.backends.base import BaseSearchBackend, RankingOptions, SearchDocument
from search.backends.embedded import EmbeddedSearchBackend
from search.text import Analyzer

FORMAT = "shuyuan-public-search"
FORMAT_VERSION = 1
MANIFEST = "bundle.json"
CURRENT = "CURRENT"
RELOAD_EVERY = 2.0  # seconds between looks at CURRENT


class BundleError(Exception):
    """The folder is not a usable public search bundle (missing, another format, unreadable)."""


def ranking_options(options: dict[str, Any]) -> dict[str, Any]:
    """The engine OPTIONS that change ranking or indexing (RankingOptions), upper-case as in settings."""
    names = {name.upper() for name in RankingOptions.__dataclass_fields__}
    return {key: value for key, value in options.items() if key in names}


def analyzer_data(analyzer: Analyzer) -> dict[str, Any]:
    return {
        "custom_words": sorted(analyzer.custom_words),
        "synonyms": [sorted(group) for group in analyzer.synonyms],
        "stopwords": sorted(analyzer.stopwords),
        "question_words": sorted(analyzer.question_words),
    }


def analyzer_from(data: dict[str, Any]) -> Analyzer:
    return Analyzer(
        custom_words=tuple(data.get("custom_words", ())),
        synonyms=[tuple(g) for g in data.get("synonyms", ())],
        stopwords=frozenset(data.get("stopwords", ())),
        question_words=frozenset(data.get("question_words", ())),
    )


def write_current(dest: Path, release: str) -> None:
    tmp = dest / f"{CURRENT}.{os.getpid()}.tmp"
    tmp.write_text(release + "\n", encoding="utf-8")
    os.replace(tmp, dest / CURRENT)


@dataclass
class Written:
    path: Path
    release: str
    documents: int
    archive: Path | None = None


def write_release(
    root: str | os.PathLike[str],
    docs: Iterable[SearchDocument],
    *,
    analyzer: Analyzer,
    ranking: dict[str, Any] | None = None,
    choices: dict[str, Any] | None = None,
    keep: int = 2,
    archive: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    started: dt.datetime | None = None,
    elasticsearch: dict[str, Any] | None = None,
) -> Written:
    """Index ``docs`` into a new release of the bundle ``root`` and make it the live one.

    The caller decides what is public (``search.public.export``); every document must say
    ``audience="public"`` or nothing is switched. The ``keep`` newest releases stay. ``started``: when
    the caller began reading ``docs`` (recorded, so a later export request knows whether this one
    already covers it). Writers of one folder take turns (a file lock), so an older export never
    switches in after a newer one."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    started = started or dt.datetime.now(dt.UTC)
    with _exclusive(root):
        return _write_release(root, docs, analyzer=analyzer, ranking=ranking, choices=choices, keep=keep,
                              archive=archive, progress=progress, started=started, elasticsearch=elasticsearch)


@contextlib.contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    with open(root / "export.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def live_started(root: str | os.PathLike[str]) -> dt.datetime | None:
    """When the live release's export began reading the CMS (None: no live release)."""
    try:
        manifest = json.loads((release_dir(Path(root)) / MANIFEST).read_text(encoding="utf-8"))
        return dt.datetime.fromisoformat(manifest["started"])
    except (BundleError, OSError, ValueError, KeyError):
        return None


def _write_release(root: Path, docs, *, analyzer, ranking, choices, keep, archive, progress, started, elasticsearch) -> Written:
    # names sort in the order releases were written (``_collect`` keeps the newest by name)
    now_us = time.time_ns() // 1000
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now_us // 10**6))
    release = f"r{stamp}-{now_us % 10**6:06d}-{os.getpid()}"
    folder = root / release
    folder.mkdir()
    ranking = ranking_options(dict(ranking or {}))
    engine_entry: dict[str, Any] = {"BACKEND": "embedded"}
    engine: BaseSearchBackend
    if elasticsearch:
        from search.backends.elasticsearch import ElasticsearchSearchBackend

        es_engine = ElasticsearchSearchBackend({**ranking, **elasticsearch}, analyzer=analyzer)
        engine_entry = {"BACKEND": "elasticsearch", "INDEX": es_engine.alias, "ANALYZER": es_engine.analyzer_mode}
        engine = es_engine
    else:
        engine = EmbeddedSearchBackend({**ranking, "PATH": str(folder / "index")}, analyzer=analyzer)
    ids: list[str] = []

    def only_public(items: Iterable[SearchDocument]) -> Iterator[SearchDocument]:
        for doc in items:
            if doc.audience != "public":
                raise ValueError(f"{doc.id} is not public (audience {doc.audience!r}); the bundle holds public documents only.")
            ids.append(doc.id)
            yield doc

    try:
        count = engine.rebuild(only_public(docs), progress=progress)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "release": release,
            "started": started.isoformat(),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "documents": count,
            "ids_sha256": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest(),
            "engine": engine_entry,
            "ranking": ranking,
            "dictionary": analyzer_data(analyzer),
            "choices": choices or {},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    archive_path = _archive(folder, Path(archive)) if archive else None
    write_current(root, release)
    _collect(root, keep=max(1, keep))
    return Written(path=folder, release=release, documents=count, archive=archive_path)


def _archive(folder: Path, path: Path) -> Path:
    """A .tar.gz of one release that unpacks into a folder the service opens directly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    os.replace(tmp, path)
    return path


def _collect(root: Path, *, keep: int) -> None:
    """Delete all but the ``keep`` newest releases (the live one always stays)."""
    live = (root / CURRENT).read_text(encoding="utf-8").strip()
    releases = sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    for old in releases[:-keep]:
        if old.name != live:
            shutil.rmtree(old, ignore_errors=True)


def release_dir(root: Path) -> Path:
    """The live release in ``root``: ``root`` itself when it is a release (holds bundle.json),
    else the one ``root/CURRENT`` names."""
    if (root / MANIFEST).is_file():
        return root
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise BundleError(f"{root} is not a public search bundle (no {CURRENT} and no {MANIFEST}).") from exc
    if not name or "/" in name or name.startswith("."):
        raise BundleError(f"{root / CURRENT} names no release: {name!r}")
    return root / name


@dataclass
class Release:
    name: str
    manifest: dict[str, Any]
    engine: BaseSearchBackend

    @property
    def documents(self) -> int:
        return int(self.manifest.get("documents", 0))


def open_release(path: Path, elasticsearch: dict[str, Any] | None = None) -> Release:
    """The engine of one release, read-only, with the dictionary it was built with. ``elasticsearch``:
    the connection options (URL, CLIENT_OPTIONS) for a release whose documents are on Elasticsearch."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"Cannot read {path / MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BundleError(
            f"{path} holds format {manifest.get('format')!r} version {manifest.get('version')!r}, "
            f"not {FORMAT!r} version {FORMAT_VERSION}; export it again with this version."
        )
    entry = manifest.get("engine") or {"BACKEND": "embedded"}
    ranking = ranking_options(manifest.get("ranking", {}))
    analyzer = analyzer_from(manifest.get("dictionary", {}))
    engine: BaseSearchBackend
    if entry.get("BACKEND") == "elasticsearch":
        if not elasticsearch:
            raise BundleError(f"{path} is on Elasticsearch (alias {entry.get('INDEX')!r}): give the service its URL.")
        from search.backends.elasticsearch import ElasticsearchSearchBackend

        options = {**ranking, **elasticsearch, "INDEX": entry["INDEX"], "ANALYZER": entry.get("ANALYZER", "whitespace")}
        try:
            engine = ElasticsearchSearchBackend(options, analyzer=analyzer)
        except ValueError as exc:
            raise BundleError(str(exc)) from exc
        where = f"alias {entry['INDEX']}"
    else:
        index = path / "index"
        if not (index / "CURRENT").is_file():
            # the engine would create an empty index here: a missing index is an error, not an empty site
            raise BundleError(f"{index} holds no index.")
        engine = EmbeddedSearchBackend({**ranking, "PATH": str(index)}, analyzer=analyzer)
        where = str(index)
    health = engine.health()
    if not health.ok:
        raise BundleError(f"Cannot open the index in {where}: {health.detail}")
    return Release(name=path.name, manifest=manifest, engine=engine)


class PublicBundle:
    """The live release of a bundle folder, reopened when ``CURRENT`` changes. A release that cannot
    be opened leaves the previous one serving (and is reported); at start-up it is an error."""

    def __init__(
        self, root: str | os.PathLike[str], *, reload_every: float = RELOAD_EVERY, elasticsearch: dict[str, Any] | None = None
    ) -> None:
        self.root = Path(root)
        self.reload_every = reload_every
        self.elasticsearch = elasticsearch
        self._lock = threading.Lock()
        self._checked = 0.0
        self.last_error = ""
        self._release = open_release(release_dir(self.root), elasticsearch)

    def current(self) -> Release:
        now = time.monotonic()
        if now - self._checked < self.reload_every:
            return self._release
        with self._lock:
            self._checked = now
            try:
                path = release_dir(self.root)
                if path.name != self._release.name:
                    self._release = open_release(path, self.elasticsearch)
                self.last_error = ""
            except BundleError as exc:
                self.last_error = str(exc)
        return self._release
