"""Static publishing benchmark: ``python -m bench.publish [--pages 10000]``.

``--pages 10000,30000,100000`` runs each size in its own process, one after the other, then prints a
summary (full build time and pages/s, peak memory of the publishing process, one edit, unchanged) so
that the growth with the size of the site is visible.

Builds the demo site grown with ``load_demo --pages N`` into a temporary database (cached between
runs under ``--data-dir``), then measures, printing a table:

* a full build into a local folder (pages/s end to end: listings, feeds, sitemaps included);
* re-publishing the unchanged site (incremental, then full);
* a full publish to a local S3 server (``rclone serve s3`` on a loopback port);
* publishing one edited article to S3 with a CDN purge (HTTP PURGE to a local listener), from the
  editor's click to objects in the bucket and the purge sent (the newest article, which the data set
  publishes once through the CMS when it is made, as editors would have);
* re-publishing the unchanged site to S3, counting requests to the bucket;
* the same steps with wagtail-bakery (django-bakery's ``build`` and ``publish``), installed into a
  throwaway folder if it installs on our stack (``pip install --dry-run`` pinned to our Wagtail and
  Django decides); if it doesn't install or run, the table says why.

Each step is printed next to its goal from the publishing issue, with pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    reviewed = var / "REVIEWED"
    if marker.exists():
        sh(["migrate", "-v0"], env)  # a cached data set made before newer migrations
        sh(["createcachetable"], env)
    else:
        shutil.rmtree(var, ignore_errors=True)
        var.mkdir(parents=True)
        t = time.monotonic()
        print(f"building the data set: load_demo --pages {pages} into {var} ...", flush=True)
        sh(["migrate", "-v0"], env)
        sh(["createcachetable"], env)  # the rate limiter's cache table (settings: shuyuan_cache)
        sh(["load_demo", "--pages", str(pages)], env)
        marker.write_text(f"{time.monotonic() - t:.0f}s\n")
    if not reviewed.exists():
        # the generated pages are bulk-inserted without a secrecy review record: review them once, as an
        # upgraded site does (README: secrecy_review), so each publish reads records instead of scanning
        # every page, and a page with findings stays offline as it would on a real site
        t = time.monotonic()
        print("secrecy_review of the generated pages ...", flush=True)
        # What ``manage.py secrecy_review`` does (a record per live page; a page with findings held), in
        # bulk in one transaction, with the scan of a text remembered (the generated pages repeat 1,000
        # texts): page by page it takes about an hour at 100,000 pages on our machine.
        review = """
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page
from cms.secrecy import scanner
from cms.secrecy.models import SecrecyHold, SecrecyReview, held
from cms.secrecy.review import is_reviewable
original, seen = scanner.scan_text, {}
def scan_text(text, place, vocabulary):
    if (text, place) not in seen:
        seen[text, place] = list(original(text, place, vocabulary))
    return list(seen[text, place])
scanner.scan_text = scan_text
vocabulary, now = scanner.Vocabulary.load(), timezone.now()
done = set(SecrecyReview.objects.filter(page__isnull=False).values_list("page_id", "revision_id"))
def flush(batch):
    reviews = SecrecyReview.objects.bulk_create(batch)
    SecrecyHold.objects.bulk_create([SecrecyHold(page_id=r.page_id, review=r) for r in reviews if r.held])
    batch.clear()
with transaction.atomic():
    batch = []
    for page in Page.objects.filter(live=True, depth__gt=1).specific().iterator(chunk_size=500):
        if not is_reviewable(page) or (page.pk, page.live_revision_id) in done:
            continue
        findings = [f.as_dict() for f in scanner.scan_page(page, vocabulary)]
        decision = SecrecyReview.Decision.PENDING if findings else SecrecyReview.Decision.NONE
        hold = held(page.classification, findings, decision)
        batch.append(SecrecyReview(
            page_id=page.pk, revision_id=page.live_revision_id, title=page.title[:255],
            classification=page.classification, findings=findings, decision=decision,
            online_at=None if hold else now))
        if len(batch) >= 1000:
            flush(batch)
    flush(batch)
"""
        subprocess.run([sys.executable, "manage.py", "shell", "-c", review], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        reviewed.write_text(f"{time.monotonic() - t:.0f}s\n")
    published = var / "EDITED_ONCE"
    if not published.exists():
        # The generated pages are bulk-inserted: none has a revision or a publish in the page log. On a
        # real site the newest article was published through the CMS; so is the one the bench edits (the
        # publish before the one measured tells that its listing's order did not change; an article
        # without one has its whole column rebuilt: deploy.affected).
        once = ("from wagtail.models import Locale\nfrom cms.models import ArticlePage\n"
                "ArticlePage.objects.live().public().filter(locale=Locale.get_default()).order_by('-pk')"
                ".first().save_revision().publish()")
        subprocess.run([sys.executable, "manage.py", "shell", "-c", once], cwd=ROOT, env=env, check=True)
        published.write_text("1\n")
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


HEADER = ("tool", "step", "time", "rate", "goal", "result", "notes")

#: the goals of the publishing issue, per step
GOAL_FULL_FOLDER = ">= 1,000 pages/s end to end"
GOAL_FULL_S3 = ">= 300 pages/s"
GOAL_EDIT = "< 2 s, only affected objects"
GOAL_NOOP = "no uploads, no per-object requests, < 5 s"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


class Rows(list):
    """Table rows, echoed as they are measured (the aligned table is printed at the end)."""

    def append(self, row: tuple[str, ...]) -> None:
        assert len(row) == len(HEADER), row
        print("  " + " | ".join(row), flush=True)
        super().append(row)

    def print_table(self) -> None:
        widths = [max(len(r[i]) for r in [HEADER, *self]) for i in range(len(HEADER) - 1)]
        print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=False)) + "  notes")
        print("  ".join("-" * w for w in widths) + "  -----")
        for r in self:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])


class Counting:
    """Counts the requests a publish makes to its target: the manifest and journal reads, and the
    per-object ones (uploads, deletions, listings, hash look-ups, other reads)."""

    META = ("_shuyuan/manifest.json", "_shuyuan/journal.json")

    def __init__(self, inner):
        self.inner, self.key, self.parallelism = inner, inner.key, inner.parallelism
        self.requests = 0
        self.per_object = 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("read", "write", "delete_many", "list_paths", "stored_sha256"):
            def counted(*a, **k):
                self.requests += 1
                if not (name == "read" and a and a[0] in self.META):
                    self.per_object += 1
                return attr(*a, **k)
            return counted
        return attr


# -- wagtail-bakery, side by side ------------------------------------------------------------------------
BAKERY_SPEC = "wagtail-bakery"


def _pip(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True, text=True, timeout=timeout,
    )


def install_bakery(data_dir: Path) -> tuple[Path | None, str]:
    """Install wagtail-bakery into a throwaway folder if it resolves with our Wagtail and Django pinned.

    Returns (folder, description) or (None, why not). Nothing is installed into the project's venv.
    """
    from importlib.metadata import version

    pins = [f"wagtail=={version('wagtail')}", f"Django=={version('django')}"]
    folder = data_dir / "wagtail-bakery"
    marker = folder / "INSTALLED.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("pins") == pins:
            return folder / "site-packages", info["description"]
    report = data_dir / "wagtail-bakery-report.json"
    try:
        dry = _pip("install", "--dry-run", "--quiet", "--report", str(report), BAKERY_SPEC, *pins)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"pip install --dry-run failed: {e}"
    if dry.returncode != 0:
        lines = [ln.strip() for ln in dry.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
        conflict = [ln for ln in lines if "requires" in ln or "conflict" in ln.lower() or "depends on" in ln]
        return None, "does not install with " + " ".join(pins) + ": " + "; ".join((conflict or lines)[-3:])[:300]
    planned = [
        (item["metadata"]["name"], item["metadata"]["version"], item["metadata"].get("requires_dist") or [])
        for item in json.loads(report.read_text())["install"]
    ]
    ours = {name.lower() for name in ("wagtail", "django")}
    changed = [f"{n} {v}" for n, v, _r in planned if n.lower() in ours]
    if changed:
        return None, f"would replace our {', '.join(changed)}"
    bakery = next((r for n, _v, r in planned if n.lower() == "wagtail-bakery"), [])
    constraints = ", ".join(r for r in bakery if "extra ==" not in r)
    shutil.rmtree(folder, ignore_errors=True)
    target = folder / "site-packages"
    inst = _pip("install", "--quiet", "--no-deps", "--target", str(target), *[f"{n}=={v}" for n, v, _r in planned])
    if inst.returncode != 0:
        return None, "install failed: " + inst.stderr.strip().splitlines()[-1][:300]
    description = " ".join(f"{n} {v}" for n, v, _r in planned) + f" (requires {constraints})"
    marker.write_text(json.dumps({"pins": pins, "description": description}))
    return target, description


BAKERY_SETTINGS = """\
from cms.settings.dev import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bakery", "wagtailbakery"]  # noqa: F405
BUILD_DIR = {build_dir!r}
BAKERY_VIEWS = ("wagtailbakery.views.AllPublishedPagesView",)
AWS_BUCKET_NAME = "bakery"
AWS_ACCESS_KEY_ID = {access!r}
AWS_SECRET_ACCESS_KEY = {secret!r}
AWS_S3_ENDPOINT = {endpoint!r}
AWS_REGION = "us-east-1"
"""


class Bakery:
    """Runs django-bakery's management commands in a subprocess with wagtail-bakery installed."""

    def __init__(self, packages: Path, work: Path, var: Path, endpoint: str | None) -> None:
        self.build_dir = work / "bakery-build"
        conf = work / "bakery_conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "bench_bakery_settings.py").write_text(
            BAKERY_SETTINGS.format(build_dir=str(self.build_dir), access=ACCESS, secret=SECRET,
                                   endpoint=endpoint or "http://127.0.0.1:9")
        )
        self.env = {
            **os.environ, "SHUYUAN_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "bench_bakery_settings",
            "DJANGO_DEBUG": "0", "PYTHONPATH": os.pathsep.join([str(conf), str(packages), str(ROOT)]),
            "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
        }

    def run(self, *args: str) -> tuple[float, float, str]:
        """(wall seconds, cpu seconds, output); raises RuntimeError with the error's last lines."""
        t, cpu = time.monotonic(), cpu_seconds()
        proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True)
        dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
        if proc.returncode != 0:
            tail = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()][-2:]
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {' / '.join(tail)[:300]}")
        return dt, cpu, proc.stdout + proc.stderr

    def pages_built(self) -> int:
        return sum(1 for _ in self.build_dir.rglob("index.html"))


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child (render workers), MB."""
    to_mb = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 / 1024
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb)


SUMMARY_HEADER = (
    "pages", "public pages", "full build", "pages/s", "pages/cpu-s", "peak RSS", "one edit", "edit cpu", "unchanged",
    "unchanged cpu", "load",
)

#: the scale goals of the publishing issue (#13, item 6), at 100,000 pages
GOAL_SCALE_EDIT_S = 2.0
GOAL_SCALE_NOOP_S = 1.0
GOAL_SCALE_PEAK_MB = 2048


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: every figure is printed with it)."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def print_summary(results: list[dict]) -> None:
    """The growth table: one row per size, then the scale goals checked on the largest size measured."""
    table = [SUMMARY_HEADER] + [tuple(r.get(k, "-") for k in SUMMARY_HEADER) for r in results]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(SUMMARY_HEADER))]
    for i, row in enumerate(table):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for r in results:
        figures = r.get("figures", {})
        checks = []
        if "edit_s" in figures:
            # CPU seconds decide on a shared machine; the wall time is printed beside them
            checks.append(f"one edit {figures['edit_cpu_s']:.2f} cpu-s / {figures['edit_s']:.2f} s wall "
                          f"(goal < {GOAL_SCALE_EDIT_S:g} s): {verdict(figures['edit_cpu_s'] < GOAL_SCALE_EDIT_S)}")
        if "noop_s" in figures:
            checks.append(f"unchanged {figures['noop_cpu_s']:.2f} cpu-s / {figures['noop_s']:.2f} s wall "
                          f"(goal < {GOAL_SCALE_NOOP_S:g} s): {verdict(figures['noop_cpu_s'] < GOAL_SCALE_NOOP_S)}")
        if "peak_mb" in figures:
            checks.append(f"peak memory {figures['peak_mb']:.0f} MB (goal < {GOAL_SCALE_PEAK_MB} MB): "
                          f"{verdict(figures['peak_mb'] < GOAL_SCALE_PEAK_MB)}")
        if checks:
            print(f"  {r.get('pages', '?')} pages: " + "; ".join(checks))


def run_sizes(sizes: list[int], argv: list[str]) -> None:
    """Each size in a fresh process (so its peak memory is its own), then the summary table."""
    results = []
    for n in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            out = fh.name
        try:
            subprocess.run([sys.executable, "-m", "bench.publish", "--pages", str(n), "--summary-json", out, *argv],
                           cwd=ROOT, check=True)
            results.append(json.loads(Path(out).read_text()))
        finally:
            os.unlink(out)
    print()
    print("Growth with the size of the site (full build → local folder; one edit and unchanged → the first target "
          "measured)")
    print_summary(results)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="10000",
                        help="generated pages (load_demo --pages); several sizes comma-separated: 10000,30000")
    parser.add_argument("--summary-json", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "shuyuan-bench"))
    parser.add_argument(
        "--steps", default=",".join(ALL_STEPS), help=f"comma-separated subset of {','.join(ALL_STEPS)}"
    )
    parser.add_argument("--site-dir", help="publish into this folder (kept) instead of a temporary one")
    parser.add_argument("--no-bakery", action="store_true", help="skip the wagtail-bakery comparison")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in str(args.pages).split(",") if n.strip()]
    if len(sizes) > 1:
        raw = list(sys.argv[1:] if argv is None else argv)
        rest, skip = [], False
        for a in raw:
            if skip:
                skip = False
            elif a == "--pages":
                skip = True
            elif not a.startswith("--pages="):
                rest.append(a)
        run_sizes(sizes, rest)
        return
    args.pages = sizes[0]
    summary: dict = {"pages": f"{args.pages:,}", "figures": {}}
    figures = summary["figures"]

    data_dir = Path(args.data_dir)
    var = prepare_data(args.pages, data_dir)
    os.environ.update(SHUYUAN_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cms.settings.dev", DJANGO_DEBUG="0")
    import django

    django.setup()
    from django.test.utils import override_settings
    from wagtail.models import Page

    from cms.models import ArticlePage
    from deploy.render import feed_group, page_group, sitemap_group
    from deploy.service import publish as deploy_publish
    from deploy.targets import S3Target, get_target

    def publish(**kw):
        # the bench's folder and bucket stand for the configured target: they take the pending changes
        return deploy_publish(primary=True, **kw)

    rows = Rows()
    work = Path(tempfile.mkdtemp(prefix="shuyuan-bench-publish-"))
    folder = Path(args.site_dir) if args.site_dir else work / "site"
    steps = set(args.steps.split(","))
    procs = []
    endpoint = None

    def edit_an_article():
        # the newest article of the source language (the default site's tree, which wagtail-bakery builds)
        from wagtail.models import Locale

        article = ArticlePage.objects.live().public().filter(locale=Locale.get_default()).order_by("-pk").first()
        # a title that differs from every earlier run's (the data set is kept between runs)
        article.title = f"{article.title.split('（修订')[0][:60]}（修订 {time.time_ns() % 10**9}）"
        article.save_revision().publish()  # the editor's click (signals queue the change)
        return article

    def affected_groups(article) -> set[str]:
        """What an edited article may change, worked out here independently of deploy.affected: the
        article, its ancestors (listings, home page) and their feeds, its translations, the pages that
        link to it, the sitemaps of their languages."""
        from wagtail.models import ReferenceIndex

        pages = [article, *article.get_ancestors().filter(depth__gt=1)]
        groups = {page_group(p.pk) for p in pages} | {feed_group(p.pk) for p in pages}
        for t in Page.objects.filter(translation_key=article.translation_key).select_related("locale"):
            groups |= {page_group(t.pk), sitemap_group(t.locale.language_code)}
        groups |= {page_group(int(r.object_id)) for r in ReferenceIndex.get_references_to(article)}
        return groups | {sitemap_group(article.locale.language_code), "robots"}

    def edited_article(target, label):
        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), PurgeListener)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        PurgeListener.received = []
        cdn = {"local": {"BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
                         "LOCATION": f"http://127.0.0.1:{port}"}}
        with override_settings(WAGTAILFRONTENDCACHE=cdn):
            t, cpu = time.monotonic(), cpu_seconds()
            article = edit_an_article()
            result = publish(target=target)
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
        server.shutdown()
        run, d = result.run, result.diff
        touched = [*d.added, *d.changed] if d else []
        allowed = affected_groups(article)
        stray = sorted(e.path for e in touched if e.group not in allowed and e.group != "ref")
        by_kind: dict[str, int] = {}
        for e in touched:
            kind = e.group.split(":")[0] if e.group != page_group(article.pk) else "article"
            by_kind[kind] = by_kind.get(kind, 0) + 1
        ok = dt < 2 and not stray and run.uploaded == len(touched) and not run.deleted
        summary.setdefault("one edit", f"{dt:.2f} s → {label} (load {load_average()})")
        summary.setdefault("edit cpu", f"{cpu:.2f} s")
        figures.setdefault("edit_s", dt)
        figures.setdefault("edit_cpu_s", cpu)
        rows.append(("shuyuan", f"publish one edited article → {label} + purge", f"{dt:.2f} s", "-", GOAL_EDIT,
                     verdict(ok),
                     f"{run.uploaded} objects uploaded of {run.uploaded + run.unchanged} "
                     f"({', '.join(f'{n} {k}' for k, n in sorted(by_kind.items()))}), "
                     f"{'none outside the affected pages' if not stray else f'{len(stray)} outside: {stray[:3]}'}; "
                     f"{run.rendered} pages rendered, {run.deleted} deleted, {len(PurgeListener.received)} URLs "
                     f"purged; cpu {cpu:.2f} s; load {load_average()}; {run.timings}"))

    def unchanged(target, label):
        counting = Counting(target)
        t, cpu = time.monotonic(), cpu_seconds()
        run = publish(target=counting).run
        dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
        ok = run.uploaded == 0 and counting.per_object == 0 and dt < 5
        summary.setdefault("unchanged", f"{dt:.2f} s → {label} (load {load_average()})")
        summary.setdefault("unchanged cpu", f"{cpu:.2f} s")
        figures.setdefault("noop_s", dt)
        figures.setdefault("noop_cpu_s", cpu)
        rows.append(("shuyuan", f"re-publish unchanged (incremental) → {label}", f"{dt:.2f} s", "-", GOAL_NOOP,
                     verdict(ok),
                     f"{run.uploaded} uploads, {counting.per_object} per-object requests, {counting.requests} "
                     f"requests in all (manifest + journal reads); cpu {cpu:.2f} s; load {load_average()}"))

    try:
        n_public = Page.objects.live().public().count()
        local = get_target(folder)
        if "folder-full" in steps:
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=local).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rate = run.rendered / dt
            rss, workers_rss = peak_rss_mb()
            figures["peak_mb"] = max(rss, workers_rss)
            summary.update({"full build": f"{dt:.1f} s (load {load_average()})", "pages/s": f"{rate:.0f}",
                            "peak RSS": f"{rss:.0f} MB (workers {workers_rss:.0f} MB)",
                            "pages/cpu-s": f"{run.rendered / cpu:.0f}"})
            rows.append(("shuyuan", "full build → local folder", f"{dt:.1f} s", f"{rate:.0f} pages/s",
                         GOAL_FULL_FOLDER, verdict(rate >= 1000),
                         f"{run.rendered} pages, {run.uploaded} objects; cpu {cpu:.1f} s "
                         f"({run.rendered / cpu:.0f} pages per cpu-second, {os.cpu_count()} cores, load "
                         f"{load_average()}); peak RSS {rss:.0f} MB, render workers {workers_rss:.0f} MB; "
                         f"{run.timings}"))
        if "folder-noop" in steps:
            unchanged(local, "folder")
        if "folder-full-noop" in steps:
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=local).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rows.append(("shuyuan", "re-publish unchanged (--full) → folder", f"{dt:.1f} s",
                         f"{run.rendered / dt:.0f} pages/s", "-", "-", f"cpu {cpu:.1f} s; {run.uploaded} uploads"))
        if "folder-edit" in steps:
            edited_article(local, "folder")
        if steps & {"s3-full", "s3-edit", "s3-noop"} or not args.no_bakery:
            proc, endpoint = start_rclone(work / "s3")
            procs.append(proc)
            for bucket in ("site", "bakery"):
                (work / "s3" / bucket).mkdir(parents=True)
        if steps & {"s3-full", "s3-edit", "s3-noop"}:
            from storages.backends.s3 import S3Storage

            storage = S3Storage(bucket_name="site", endpoint_url=endpoint, access_key=ACCESS, secret_key=SECRET,
                                region_name="us-east-1", addressing_style="path", location="www")
            s3 = S3Target(storage)
            t, cpu = time.monotonic(), cpu_seconds()
            run = publish(full=True, target=s3).run
            dt, cpu = time.monotonic() - t, cpu_seconds() - cpu
            rate = run.rendered / dt
            rows.append(("shuyuan", "full publish → local S3 (rclone)", f"{dt:.1f} s", f"{rate:.0f} pages/s",
                         GOAL_FULL_S3, verdict(rate >= 300),
                         f"{run.uploaded} objects; cpu {cpu:.1f} s (ours; rclone's not counted); {run.timings}"))
            if "s3-edit" in steps:
                edited_article(s3, "S3")
            if "s3-noop" in steps:
                unchanged(s3, "S3")
        if not args.no_bakery:
            bakery_steps(rows, data_dir, work, var, endpoint, edit_an_article)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"Static publishing, demo site + load_demo --pages {args.pages} ({n_public} public pages in all locales)")
    rows.print_table()
    rss, workers_rss = peak_rss_mb()
    print(f"peak RSS of the publishing process {rss:.0f} MB, of a render worker {workers_rss:.0f} MB; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    summary.update({"public pages": f"{n_public:,}", "load": load_average()})
    summary.setdefault("peak RSS", f"{rss:.0f} MB (workers {workers_rss:.0f} MB)")
    figures.setdefault("peak_mb", max(rss, workers_rss))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary))
    else:
        print()
        print(f"Scale (issue #13, item 6; command: python -m bench.publish {' '.join(sys.argv[1:])})")
        print_summary([summary])


def bakery_steps(rows: Rows, data_dir: Path, work: Path, var: Path, endpoint: str | None, edit_an_article) -> None:
    """The same steps with wagtail-bakery: ``build`` (every live public page of the default site, through
    the full middleware stack, into a folder) and ``publish`` (sync the folder to S3 by MD5/ETag)."""
    packages, description = install_bakery(data_dir)
    if packages is None:
        for step, goal in (("full build → local folder", GOAL_FULL_FOLDER), ("full publish → local S3", GOAL_FULL_S3),
                           ("publish one edited article → S3", GOAL_EDIT), ("re-publish unchanged → S3", GOAL_NOOP)):
            rows.append(("wagtail-bakery", step, "-", "-", goal, "not run", description))
        return
    bakery = Bakery(packages, work, var, endpoint)
    try:
        dt, cpu, _out = bakery.run("build", "--skip-static", "--skip-media")
        built = bakery.pages_built()
        rate = built / dt
        rows.append(("wagtail-bakery", "full build → local folder", f"{dt:.1f} s", f"{rate:.0f} pages/s",
                     GOAL_FULL_FOLDER, verdict(rate >= 1000),
                     f"{built} pages (the default site's live public pages only: no pagination, filter "
                     f"routes, feeds, sitemaps, other languages' trees or assets); {description}"))
        dp, _cpu, out = bakery.run("publish", "--aws-bucket-name", "bakery")
        rate = built / (dt + dp)
        rows.append(("wagtail-bakery", "full publish → local S3 (build + publish)", f"{dt + dp:.1f} s",
                     f"{rate:.0f} pages/s", GOAL_FULL_S3, verdict(rate >= 300),
                     f"publish (sync by MD5 against the bucket's ETags) {dp:.1f} s"))
        # wagtail-bakery has no incremental build for our page models: any re-publish is a full build,
        # then a sync that lists the whole bucket and compares every file's MD5 with the ETags
        t = time.monotonic()
        edit_an_article()
        dt, _cpu, _o = bakery.run("build", "--skip-static", "--skip-media")
        dp, _cpu, out = bakery.run("publish", "--aws-bucket-name", "bakery")
        total = time.monotonic() - t
        uploaded, deleted = _sync_counts(out)
        rows.append(("wagtail-bakery", "publish one edited article → S3", f"{total:.1f} s", "-", GOAL_EDIT,
                     verdict(total < 2), f"{uploaded} objects uploaded, {deleted} deleted; full build {dt:.1f} s + "
                     f"sync {dp:.1f} s"))
        # unchanged: the folder built for the edit is the site; bakery can only tell that nothing changed
        # by building again (as long as the full build measured above) and syncing: the sync is measured
        dp, _cpu, out = bakery.run("publish", "--aws-bucket-name", "bakery")
        uploaded, deleted = _sync_counts(out)
        total = dt + dp
        rows.append(("wagtail-bakery", "re-publish unchanged → S3", f"{total:.1f} s", "-", GOAL_NOOP,
                     verdict(total < 5 and uploaded == 0 and deleted == 0),
                     f"{uploaded} uploads, {deleted} deletions, no per-object requests (one bucket listing per "
                     f"1,000 keys); sync {dp:.1f} s measured + the full build it needs first ({dt:.1f} s above)"))
    except RuntimeError as e:
        rows.append(("wagtail-bakery", "(failed)", "-", "-", "-", "not run", f"{description}: {e}"))


def _sync_counts(output: str) -> tuple[int | None, int | None]:
    """(uploaded, deleted) from django-bakery's "Publish completed, N uploaded and M deleted files"."""
    import re

    m = re.search(r"(\d+) uploaded and (\d+) deleted", output)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


if __name__ == "__main__":
    main()
