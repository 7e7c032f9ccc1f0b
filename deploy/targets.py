"""Publish targets: where the static site goes.

The target is a backend declared like every other (``cms/backends.py``)::

    SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.S3Target", "OPTIONS": {"STORAGE": "publish"}}

BACKEND names the adapter class; OPTIONS["STORAGE"] names the Django storage in ``STORAGES`` it writes
through (default ``"publish"``), so the site can go wherever Django can store files. Django's Storage
API can't set per-object metadata or headers, so each kind of storage has a small adapter that can:

* ``LocalFolderTarget``: a folder (``FileSystemStorage``); files are replaced atomically (write to a
  temporary name, then rename) so a reader never sees half a file.
* ``S3Target``: an S3-compatible bucket (``storages.backends.s3.S3Storage``): AWS, MinIO, Aliyun OSS,
  Tencent COS... It uses the storage's own boto3 session, bucket, prefix (``location``), endpoint,
  region and addressing style; it sets ``Content-Type`` and ``Cache-Control`` and stores our SHA-256 in
  the object's metadata. It never sends an ACL: public reads are granted by the bucket policy / CDN
  origin access, and modern buckets refuse ``public-read`` anyway.
* ``StorageTarget``: any other Django storage, through the plain Storage API (hashes in the manifest only).

An adapter refuses, at start-up (``deploy/system_checks.py``), a storage it cannot drive.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from functools import cached_property
from pathlib import Path
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InvalidStorageError, Storage, storages

from cms.backends import backend_entry, build_backend

from .manifest import Entry

META_SHA256 = "shuyuan-sha256"


class TargetError(Exception):
    """The target could not be read or written (unreachable, refused, misconfigured)."""


class PublishTarget(Protocol):
    #: a stable identifier of where objects go (used for the publish lease and history)
    key: str
    #: how many uploads are worth running at once
    parallelism: int

    def describe(self) -> str: ...

    def read(self, path: str) -> bytes | None: ...

    def write(self, entry: Entry, body: bytes) -> None: ...

    def delete_many(self, paths: Iterable[str]) -> None: ...

    def list_paths(self) -> Iterator[str]: ...

    def stored_sha256(self, path: str) -> str | None: ...


class TargetTimeout(TargetError):
    """The target answered no request for ``TARGET_TIMEOUT`` seconds: it is hung or unreachable."""


def write_many(
    target: PublishTarget, items: Iterable[tuple[Entry, bytes]], on_done=None, *, timeout: float | None = None
) -> int:
    """Upload objects in parallel, in the given order per batch.

    Order matters across phases (assets, then pages), so callers run one call per phase. ``timeout``:
    seconds without any finished upload after which the target counts as hung (``TargetTimeout``).
    After the first failure (or ``on_done`` raising, e.g. a lost lease) the queued uploads are
    cancelled, the target is asked to stop retrying the ones in flight (``cancel_requests``), and
    those end within one request's timeout; then the failure is raised (the manifest is not written).
    """
    items = list(items)
    if not items:
        return 0
    if target.parallelism <= 1 or len(items) < 16:
        for entry, body in items:
            target.write(entry, body)
            if on_done:
                on_done(entry)
        return len(items)
    pool = ThreadPoolExecutor(max_workers=target.parallelism, thread_name_prefix="publish")
    futures = {pool.submit(target.write, entry, body): entry for entry, body in items}
    waiting = set(futures)
    try:
        while waiting:
            finished, waiting = wait(waiting, timeout=timeout, return_when=FIRST_COMPLETED)
            if not finished:
                raise TargetTimeout(
                    f"发布目标 {target.describe()} 已 {timeout:g} 秒没有完成任何上传（无响应或无法连接），"
                    f"发布已停止，{len(waiting)} 个文件未上传；已发布的网站保持不变。"
                )
            for fut in finished:
                fut.result()  # re-raises the failure
                if on_done:
                    on_done(futures[fut])
    except BaseException:
        for fut in waiting:
            fut.cancel()
        cancel = getattr(target, "cancel_requests", None)
        if cancel is not None:
            cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        resume = getattr(target, "resume_requests", None)
        if resume is not None:
            resume()
    return len(items)


class BasePublishTarget:
    """An adapter that publishes through one Django storage (see the module docstring)."""

    parallelism = 1

    @classmethod
    def from_options(cls, options: dict) -> BasePublishTarget:
        """The target declared in ``SHUYUAN_PUBLISH_TARGET``: OPTIONS["STORAGE"] names the storage."""
        options = dict(options)
        alias = options.pop("STORAGE", "publish")
        if options:
            raise ValueError(f"unknown OPTIONS {sorted(options)} (a publish target takes STORAGE only)")
        try:
            storage = storages[alias]
        except (InvalidStorageError, ImportError) as e:
            raise ValueError(f'STORAGES["{alias}"] is not usable: {e}') from e
        return cls(storage)


class LocalFolderTarget(BasePublishTarget):
    parallelism = 1

    def __init__(self, storage: Storage) -> None:
        try:
            root = storage.path("")
        except NotImplementedError:
            raise ImproperlyConfigured(
                f"LocalFolderTarget needs a storage with local paths (FileSystemStorage), not "
                f"{type(storage).__module__}.{type(storage).__qualname__}; for a bucket name deploy.targets.S3Target."
            ) from None
        self.storage = storage
        self.root = Path(root).resolve()
        self.key = f"file:{self.root}"
        self._root_str = str(self.root)
        self._root_prefix = os.path.join(self._root_str, "")
        self._made_dirs: set[Path] = set()
        self._umask = _current_umask()

    def describe(self) -> str:
        return str(self.root)

    def _abs(self, path: str) -> Path:
        # our own object paths: normalising is enough to keep them inside the folder (no symlink walk)
        full = os.path.normpath(os.path.join(self._root_str, path))
        if not full.startswith(self._root_prefix):
            raise TargetError(f"path escapes the target folder: {path!r}")
        return Path(full)

    def read(self, path: str) -> bytes | None:
        try:
            return self._abs(path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise TargetError(str(e)) from e

    def write(self, entry: Entry, body: bytes) -> None:
        full = self._abs(entry.path)
        parent = full.parent
        try:
            if parent not in self._made_dirs:
                parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(parent)
            # a private temporary name next to the file, then an atomic rename over it; no fsync: a
            # crash before the manifest is written is repaired by the next run (see service.py)
            tmp = os.path.join(parent, f".tmp-{os.getpid()}-{threading.get_ident()}-{full.name}")
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
            try:
                fd = os.open(tmp, flags, 0o644)
            except FileNotFoundError:  # the folder went away since we made it
                parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(tmp, flags, 0o644)
            try:
                try:
                    view = memoryview(body)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                if self._umask & 0o044:
                    os.chmod(tmp, 0o644)
                os.replace(tmp, full)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        except OSError as e:
            self._made_dirs.discard(parent)
            raise TargetError(str(e)) from e

    def delete_many(self, paths: Iterable[str]) -> None:
        self._made_dirs.clear()
        for path in paths:
            full = self._abs(path)
            with contextlib.suppress(FileNotFoundError):
                full.unlink()
            # remove folders left empty, up to the root
            parent = full.parent
            while parent != self.root:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def list_paths(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                yield os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")

    def stored_sha256(self, path: str) -> str | None:
        from .manifest import sha256_hex

        body = self.read(path)
        return None if body is None else sha256_hex(body)


class S3Target(BasePublishTarget):
    parallelism = 8

    def __init__(self, storage) -> None:
        # (the class is asked for ``connection``: reading it on the storage would open a boto3 session)
        if not (hasattr(storage, "bucket_name") and hasattr(type(storage), "connection")):
            raise ImproperlyConfigured(
                f"S3Target needs an S3 storage (storages.backends.s3.S3Storage), not "
                f"{type(storage).__module__}.{type(storage).__qualname__}."
            )
        if getattr(storage, "default_acl", None):
            raise ImproperlyConfigured(
                "The publish storage must not set default_acl: objects are made readable by the bucket "
                "policy or the CDN's origin access, never by per-object ACLs."
            )
        if not storage.bucket_name:
            raise ImproperlyConfigured("The publish storage needs a bucket_name.")
        self.storage = storage
        self.bucket = storage.bucket_name
        self.prefix = (storage.location or "").strip("/")
        endpoint = storage.endpoint_url or "aws"
        self.key = f"s3:{endpoint}/{self.bucket}/{self.prefix}"
        self._cancelled = threading.Event()

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (
            f" at {self.storage.endpoint_url}" if self.storage.endpoint_url else ""
        )

    @cached_property
    def client(self):
        """One low-level client for every upload thread (botocore clients are thread-safe).

        Made like the storage's own (same session, credentials, endpoint, region, addressing style and
        client config), with a connection pool as large as our thread pool and without the work that
        only costs CPU on a bulk upload of small objects: validating parameters we build ourselves, and
        computing a CRC checksum the server doesn't ask for (the body is signed with SigV4 anyway).
        Every request is bounded (``TARGET_*`` in ``SHUYUAN_PUBLISH``: connect and read timeouts, a few
        attempts with back-off), and stops retrying once ``cancel_requests`` was called.
        """
        from .conf import target_bounds

        storage = self.storage
        bounds = target_bounds()
        try:
            from botocore.config import Config

            config = storage.client_config.merge(
                Config(
                    parameter_validation=False,
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    max_pool_connections=max(self.parallelism * 2, 10),
                    connect_timeout=bounds["TARGET_CONNECT_TIMEOUT"],
                    read_timeout=bounds["TARGET_READ_TIMEOUT"],
                    retries={"mode": "standard", "total_max_attempts": int(bounds["TARGET_MAX_ATTEMPTS"])},
                )
            )
            client = storage._create_session().client(
                "s3",
                region_name=storage.region_name,
                use_ssl=storage.use_ssl,
                endpoint_url=storage.endpoint_url,
                config=config,
                verify=storage.verify,
            )
        except (AttributeError, TypeError):  # a storage without django-storages' internals
            client = storage.connection.meta.client
        client.meta.events.register_first("needs-retry.s3", self._refuse_if_cancelled)
        client.meta.events.register_first("before-send.s3", self._refuse_if_cancelled)
        return client

    def cancel_requests(self) -> None:
        """Start no new request or retry (requests in flight end within their timeout)."""
        self._cancelled.set()

    def resume_requests(self) -> None:
        self._cancelled.clear()

    def _refuse_if_cancelled(self, **kwargs) -> None:
        if self._cancelled.is_set():
            raise TargetError("发布已停止，不再发送请求 (publish stopped: request cancelled)")

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def read(self, path: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(path))["Body"].read()
        except self._errors() as e:
            if _is_not_found(e):
                return None
            raise TargetError(f"读取 {path} 失败：{e}") from e

    def write(self, entry: Entry, body: bytes) -> None:
        params = {
            k: v
            for k, v in (self.storage.object_parameters or {}).items()
            if k not in ("ACL", "CacheControl", "ContentType", "Metadata")
        }
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(entry.path),
                Body=body,
                ContentType=entry.content_type,
                CacheControl=entry.cache_control,
                Metadata={META_SHA256: entry.sha256},
                **params,
            )
        except self._errors() as e:
            raise TargetError(f"上传 {entry.path} 失败：{e}") from e

    def delete_many(self, paths: Iterable[str]) -> None:
        keys = [self._key(p) for p in paths]
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            chunk = keys[i : i + 1000]
            try:
                resp = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            except self._errors() as e:
                raise TargetError(f"删除 {len(chunk)} 个文件失败：{e}") from e
            errors = [err for err in resp.get("Errors", []) if err.get("Code") != "NoSuchKey"]
            if errors:
                raise TargetError(f"删除文件失败：{errors[:5]}")

    def list_paths(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(prefix) :]
        except self._errors() as e:
            raise TargetError(f"列出文件失败：{e}") from e

    def stored_sha256(self, path: str) -> str | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(path))
        except self._errors() as e:
            if _is_not_found(e):
                return None
            raise TargetError(f"读取 {path} 的元数据失败：{e}") from e
        meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
        return meta.get(META_SHA256)


class StorageTarget(BasePublishTarget):
    """Any Django storage through its plain API: no headers, hashes kept in the manifest only."""

    parallelism = 1

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.key = f"storage:{storage.__class__.__module__}.{storage.__class__.__qualname__}"

    def describe(self) -> str:
        return self.key

    def read(self, path: str) -> bytes | None:
        try:
            if not self.storage.exists(path):
                return None
            with self.storage.open(path, "rb") as fh:
                return fh.read()
        except OSError as e:
            raise TargetError(str(e)) from e

    def write(self, entry: Entry, body: bytes) -> None:
        try:
            if self.storage.exists(entry.path):
                self.storage.delete(entry.path)
            self.storage.save(entry.path, ContentFile(body))
        except OSError as e:
            raise TargetError(str(e)) from e

    def delete_many(self, paths: Iterable[str]) -> None:
        for p in paths:
            self.storage.delete(p)

    def list_paths(self) -> Iterator[str]:
        def walk(prefix: str) -> Iterator[str]:
            dirs, files = self.storage.listdir(prefix)
            for f in files:
                yield f"{prefix}/{f}" if prefix else f
            for d in dirs:
                yield from walk(f"{prefix}/{d}" if prefix else d)

        yield from walk("")

    def stored_sha256(self, path: str) -> str | None:
        from .manifest import sha256_hex

        body = self.read(path)
        return None if body is None else sha256_hex(body)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_not_found(error) -> bool:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


SETTING = "SHUYUAN_PUBLISH_TARGET"


def build_target() -> BasePublishTarget:
    """A new target from ``SHUYUAN_PUBLISH_TARGET`` (ImproperlyConfigured naming the setting)."""
    return build_backend(
        backend_entry(SETTING), BasePublishTarget, SETTING, kind="publish target",
        factory=lambda cls, options: cls.from_options(options),
    )


def get_target(folder: str | os.PathLike | None = None) -> PublishTarget:
    """The configured publish target, or a local folder (``publish_site --to DIR``).

    Built anew each time (it holds per-run state such as the folders it made); its storage is
    Django's, shared."""
    if folder is not None:
        return LocalFolderTarget(FileSystemStorage(location=os.fspath(folder)))
    return build_target()
