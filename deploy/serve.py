"""A small static server for the locally published site (the demo's second port).

It behaves like the bucket behind a CDN: ``/path/`` serves ``path/index.html``, headers come from the
manifest (content type, cache policy), and unknown paths get ``404.html`` with status 404.
"""

from __future__ import annotations

import os
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .manifest import MANIFEST_PATH, Manifest
from .targets import LocalFolderTarget, get_target


class StaticSiteHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, directory: str, manifest_cache: dict, **kwargs) -> None:
        self.manifest_cache = manifest_cache
        super().__init__(*args, directory=directory, **kwargs)

    def _entries(self):
        path = Path(self.directory) / MANIFEST_PATH
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self.manifest_cache.get("mtime") != mtime:
            self.manifest_cache["entries"] = Manifest.from_bytes(path.read_bytes()).entries
            self.manifest_cache["mtime"] = mtime
        return self.manifest_cache["entries"]

    def _object_path(self) -> str:
        path = unquote(urlsplit(self.path).path).lstrip("/")
        return path + "index.html" if (not path or path.endswith("/")) else path

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        entries = self._entries()
        key = self._object_path()
        entry = entries.get(key)
        if entry is None and key + "/index.html" in entries:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", "/" + key + "/")
            self.end_headers()
            return
        status = HTTPStatus.OK
        if entry is None:
            status, key, entry = HTTPStatus.NOT_FOUND, "404.html", entries.get("404.html")
        file = Path(self.directory) / key
        if entry is None or not file.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body = file.read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", entry.content_type)
        self.send_header("Cache-Control", entry.cache_control)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{entry.sha256[:32]}"')
        self.end_headers()
        if not head:
            self.wfile.write(body)


def serve(bind: str = "127.0.0.1", port: int = 8001, folder: str | None = None, log=print) -> None:
    if folder is None:
        target = get_target()
        if not isinstance(target, LocalFolderTarget):
            raise SystemExit("the publish target is not a local folder; pass --dir")
        folder = str(target.root)
    os.makedirs(folder, exist_ok=True)
    handler = partial(StaticSiteHandler, directory=folder, manifest_cache={})
    with ThreadingHTTPServer((bind, port), handler) as httpd:
        log(f"Serving the published site from {folder} at http://{bind}:{port}/")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
