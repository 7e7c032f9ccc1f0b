"""Static publishing benchmark: ``python -m bench.publish [--pages 10000]``.

Builds the demo site grown with ``load_demo --pages N`` into a temporary database (cached between
runs under ``--data-dir``), then measures, printing a table:

* a full build into a local folder (pages/s end to end: listings, feeds, sitemaps included);
* re-publishing the unchanged site (incremental, then full);
* a full publish to a local S3 server (``rclone serve s3`` on a loopback port);
* publishing one edited article to S3 with a CDN purge (HTTP PURGE to a local listener), from the
  editor's click to objects in the bucket and the purge sent;
* re-publishing the unchanged site to S3, counting requests to the bucket.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCESS, SECRET = "benchaccesskey", "benchsecretkey0123456789"


ALL_STEPS = ("folder-full", "folder-noop", "folder-full-noop", "folder-edit", "s3-full", "s3-edit", "s3-noop")


def sh(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_data(pages: int, data_dir: Path) -> Path:
    var = data_dir / f"v{pages}"
    marker = var / "READY"
    env = {**os.environ, "SHUYUAN_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
           "DJANGO_DEBUG": "0"}
    if marker.exists():
        sh(["migrate", "-v0"], env)  # a cached data set made before newer migrations
    else:
        shutil.rmtree(var, ignore_errors=True)
        var.mkdir(parents=True)
        t = time.monotonic()
        print(f"building the data set: load_demo --pages {pages} into {var} ...", flush=True)
        sh(["migrate", "-v0"], env)
        sh(["load_demo", "--pages", str(pages)], env)
        marker.write_text(f"{time.monotonic() - t:.0f}s\n")
    return var


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_rclone(root: Path):
    binary = Path(sys.executable).parent / "rclone"
    port = free_port()
    proc = subprocess.Popen(
        [str(binary if binary.exists() else "rclone"), "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{ACCESS},{SECRET}", "--config", os.devnull],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("rclone serve s3 did not start")


class PurgeListener(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_PURGE(self):  # noqa: N802 - HTTP verb
        PurgeListener.received.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (render workers): on a shared machine
    the wall-clock rate depends on what else runs; this shows the work itself."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Rows(list):
    """Table rows, echoed as they are measured (the aligned table is printed at the end)."""

    def append(self, row: tuple[str, str, str, str]) -> None:
        print("  " + " | ".join(row), flush=True)
        super().append(row)


class Counting:
    """Counts the requests a publish makes to its target."""

    def __init__(self, inner):
        self.inner, self.key, self.parallelism = inner, inner.key, inner.parallelism
        self.requests = 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("read", "write", "delete_many", "list_paths", "stored_sha256"):
            def counted(*a, **k):
                self.requests += 1
                return attr(*a, **k)
            return counted
        return attr


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000, help="generated pages (load_demo --pages)")
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "shuyuan-bench"))
    parser.add_argument(
        "--steps", default=",".join(ALL_STEPS), help=f"comma-separated subset of {','.join(ALL_STEPS)}"
    )
    parser.add_argument("--site-dir", help="publish into this folder (kept) instead of a temporary one")
    args = parser.parse_args(argv)

    var = prepare_data(args.pages, Path(args.data_dir))
    os.environ.update(SHUYUAN_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cms.settings.dev", DJANGO_DEBUG="0")
    import django

    django.setup()
    from django.test.utils import override_settings
    from wagtail.models import Page

    from cms.models import ArticlePage
    from deploy.service import publish
    from deploy.targets import get_target, target_for_storage

    rows = Rows()
    work = Path(tempfile.mkdtemp(prefix="shuyuan-bench-publish-"))
    folder = Path(args.site_dir) if args.site_dir else work / "site"
    steps = set(args.steps.split(","))
    procs = []

    def edited_article(target, label):
        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), PurgeListener)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        PurgeListener.received = []
        cdn = {"local": {"BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
                         "LOCATION": f"http://127.0.0.1:{port}"}}
        article = ArticlePage.objects.live().public().order_by("-pk").first()
        with override_settings(WAGTAILFRONTENDCACHE=cdn):
            t, cpu = time.monotonic(), cpu_seconds()
            article.title = article.title[:60] + "（修订）"
            article.save_revision().publish()  # the editor's click (signals queue the change)
            result = publish(target=target)
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
        server.shutdown()
        run = result.run
        rows.append((f"publish one edited article → {label} + purge", f"{dt:.2f} s", "-",
                     f"cpu {cpu:.2f} s; {run.rendered} pages rendered, {run.uploaded} objects uploaded, "
                     f"{run.deleted} deleted, {len(PurgeListener.received)} URLs purged; {run.timings}"))

    def unchanged(target, label):
        counting = Counting(target)
        t, cpu = time.monotonic(), cpu_seconds()
        run = publish(target=counting).run
        dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
        rows.append((f"re-publish unchanged (incremental) → {label}", f"{dt:.2f} s", "-",
                     f"cpu {cpu:.2f} s; {run.uploaded} uploads, {counting.requests} target requests "
                     "(manifest + journal reads)"))

    try:
        n_public = Page.objects.live().public().count()
        local = get_target(folder)
        if "folder-full" in steps:
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=local).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rows.append(("full build → local folder", f"{dt:.1f} s", f"{run.rendered / dt:.0f} pages/s",
                         f"cpu {cpu:.1f} s ({run.rendered / cpu:.0f} pages per cpu-second); {run.rendered} pages, "
                         f"{run.uploaded} objects; {run.timings}"))
        if "folder-noop" in steps:
            unchanged(local, "folder")
        if "folder-full-noop" in steps:
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=local).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rows.append(("re-publish unchanged (--full) → folder", f"{dt:.1f} s", f"{run.rendered / dt:.0f} pages/s",
                         f"cpu {cpu:.1f} s; {run.uploaded} uploads"))
        if "folder-edit" in steps:
            edited_article(local, "folder")
        if steps & {"s3-full", "s3-edit", "s3-noop"}:
            from storages.backends.s3 import S3Storage

            proc, endpoint = start_rclone(work / "s3")
            procs.append(proc)
            (work / "s3" / "site").mkdir(parents=True)
            storage = S3Storage(bucket_name="site", endpoint_url=endpoint, access_key=ACCESS, secret_key=SECRET,
                                region_name="us-east-1", addressing_style="path", location="www")
            s3 = target_for_storage(storage)
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=s3).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rows.append(("full publish → local S3 (rclone)", f"{dt:.1f} s", f"{run.rendered / dt:.0f} pages/s",
                         f"cpu {cpu:.1f} s (ours; rclone's not counted); {run.uploaded} objects; {run.timings}"))
            if "s3-edit" in steps:
                edited_article(s3, "S3")
            if "s3-noop" in steps:
                unchanged(s3, "S3")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"Static publishing, demo site + load_demo --pages {args.pages} ({n_public} public pages in all locales)")
    widths = [max(len(r[i]) for r in rows + [("step", "time", "rate", "notes")]) for i in range(3)]
    header = ("step", "time", "rate", "notes")
    print("  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  notes")
    print("  ".join("-" * w for w in widths) + "  -----")
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])


if __name__ == "__main__":
    main()
