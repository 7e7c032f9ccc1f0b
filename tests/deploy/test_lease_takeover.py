"""The publish lease's heartbeat: a dead publisher is taken over in seconds, two never run at once.

The first tests drive ``PublishLock`` and ``Lease`` in this process. The others run real publishers:
``manage.py publish_site`` in separate processes (this file run as a script, see ``_publisher``) on a
copy of the test site's database in a file, publishing into one folder. A publisher can be slowed down
and stalled mid-upload (as on a slow link), to be killed there with SIGKILL or raced by another.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# -- the lease row ---------------------------------------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_holder_is_never_taken_over_before_its_lease_ends(db):
    from deploy.models import PublishLock

    holder = PublishLock.acquire("t", timedelta(seconds=30))
    lock = PublishLock.objects.get(name="t")
    assert (lock.holder, lock.pid, lock.heartbeat_at is not None) == (holder, os.getpid(), True)
    assert PublishLock.acquire("t", timedelta(seconds=30)) is None  # this process is alive
    # a dead process on another machine (or in another PID namespace) is not known to be dead
    PublishLock.objects.filter(name="t").update(pid=_dead_pid(), host="another-machine")
    assert PublishLock.acquire("t", timedelta(seconds=30)) is None
    # until its heartbeat is older than the lease
    PublishLock.objects.filter(name="t").update(expires_at=lock.expires_at - timedelta(seconds=31))
    assert PublishLock.acquire("t", timedelta(seconds=30)) is not None


def test_a_holder_whose_process_is_gone_from_this_host_is_taken_over_at_once(db):
    from deploy.models import PublishLock

    PublishLock.acquire("t", timedelta(seconds=30))
    PublishLock.objects.filter(name="t").update(pid=_dead_pid())
    taken = PublishLock.acquire("t", timedelta(seconds=30))
    assert taken is not None and PublishLock.objects.get(name="t").pid == os.getpid()
    # a killed process its parent has not reaped yet (a zombie) is gone too
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        PublishLock.objects.filter(name="t").update(pid=zombie.pid)
        assert PublishLock.acquire("t", timedelta(seconds=30)) is None  # alive
        zombie.kill()
        time.sleep(0.3)
        assert PublishLock.acquire("t", timedelta(seconds=30)) is not None
    finally:
        zombie.kill()
        zombie.wait()


def test_a_run_whose_publisher_is_gone_is_shown_interrupted(site, folder_target):
    from deploy.models import PublishLock, PublishRun

    holder = PublishLock.acquire(folder_target.key, timedelta(seconds=30))
    run = PublishRun.objects.create(mode="full", lock_name=folder_target.key, holder=holder)
    assert PublishRun.mark_interrupted() == 0  # alive: it may still be publishing
    PublishLock.objects.filter(name=folder_target.key).update(pid=_dead_pid())
    assert PublishRun.mark_interrupted() == 1
    run.refresh_from_db()
    assert run.status == PublishRun.Status.INTERRUPTED and run.error.startswith("中断：")


def test_the_publishing_thread_renews_the_lease_on_progress_and_stops_once_it_is_taken(site, folder_target):
    """Inside a transaction (this test) no other thread can renew: progress ticks do."""
    from deploy.models import PublishLock
    from deploy.publisher import Lease, LeaseLost

    ttl = timedelta(seconds=2)
    lease = Lease(folder_target, PublishLock.acquire(folder_target.key, ttl), ttl, heartbeat=0.05).start()
    assert lease._thread is None  # in a transaction
    before = PublishLock.objects.get(name=folder_target.key).expires_at
    time.sleep(0.1)
    lease.tick()
    assert PublishLock.objects.get(name=folder_target.key).expires_at > before
    PublishLock.objects.filter(name=folder_target.key).update(holder="someone-else")
    time.sleep(0.1)
    with pytest.raises(LeaseLost, match="taken over"):
        lease.tick()
    with pytest.raises(LeaseLost):
        lease.check()  # and stays lost
    lease.release()
    assert PublishLock.objects.get(name=folder_target.key).holder == "someone-else"


# -- real publishers in other processes --------------------------------------------------------------------
#: the publishers read committed rows; the flush after each test must restore the pages migrations made
real_processes = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def site_db(tmp_path, settings):
    """The test site, committed and copied into a database file the publishers share; the folder they
    publish to; and the settings they run with."""
    from django.db import connection

    from tests.factories import build_site

    if connection.vendor != "sqlite":
        pytest.skip(
            "the publisher processes share a file copy of the SQLite test database; on PostgreSQL the same "
            "lease (the same queries) is covered by the in-process lease tests above"
        )
    settings.ROOT_URLCONF = "tests.deploy.urls"
    settings.SHUYUAN_PUBLISH = {"AUTO_PUBLISH": False}  # the publishers below publish it
    build_site(n_articles=3)
    db = tmp_path / "site.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(db) as copy:
        connection.connection.backup(copy)
    return {"db": str(db), "site": str(tmp_path / "site"), "media_root": str(settings.MEDIA_ROOT),
            "log": str(tmp_path / "writes.log")}


def _start(site_db, *args, delay: float = 0.0, hold_after: int = 0, publish: dict | None = None) -> subprocess.Popen:
    """A publisher; with ``delay``, each object it writes is logged and followed by that pause; with
    ``hold_after``, it stops after that many objects until ``_release`` (as on a stalled link)."""
    config = {**site_db, "delay": delay, "hold_after": hold_after, "publish": publish or {}, "args": list(args)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
           "DJANGO_SETTINGS_MODULE": "cms.settings.test"}
    return subprocess.Popen([sys.executable, __file__, json.dumps(config)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _release(site_db) -> None:
    Path(site_db["log"] + ".go").touch()


def _finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out + err


def _wait_for_writes(site_db, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    log = Path(site_db["log"])
    deadline = time.monotonic() + timeout
    while not (log.exists() and len(log.read_text().splitlines()) >= n):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the publisher did not start uploading:\n{_finish(proc)[1][-3000:]}")
        time.sleep(0.05)


def _runs(site_db) -> list[dict]:
    with sqlite3.connect(site_db["db"], timeout=20) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM deploy_publishrun ORDER BY id").fetchall()
    return [{**dict(row), "started_at": _utc(row["started_at"]), "finished_at": _utc(row["finished_at"])} for row in rows]


def _lock(site_db) -> dict:
    with sqlite3.connect(site_db["db"], timeout=20) as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM deploy_publishlock").fetchone())


def _utc(value: str | None) -> float | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def _assert_consistent(site_db) -> None:
    from deploy.manifest import JOURNAL_PATH, MANIFEST_PATH, Manifest, sha256_hex
    from deploy.service import verify

    report = verify(folder=site_db["site"], check_hashes=True)
    assert report.ok, (report.missing[:5], report.extra[:5], report.mismatched[:5])
    root = Path(site_db["site"])
    manifest = Manifest.from_bytes((root / MANIFEST_PATH).read_bytes())
    assert [p for p, e in manifest.entries.items() if sha256_hex((root / p).read_bytes()) != e.sha256] == []
    assert not (root / JOURNAL_PATH).exists()


SHORT_LEASE = {"LOCK_TTL": 3, "LOCK_HEARTBEAT": 0.5}


@real_processes
def test_two_publishers_never_run_at_once(site_db):
    """While one publisher uploads for several leases' length (its heartbeat keeps the lease), a second
    refuses (--no-wait) and a third waits, then publishes after the first finished."""
    first = _start(site_db, "--full", delay=0.05, hold_after=5, publish=SHORT_LEASE)
    try:
        _wait_for_writes(site_db, 5, first)
        code, output = _finish(_start(site_db, "--full", "--no-wait", publish=SHORT_LEASE))
        assert code != 0 and "is running" in output, output[-2000:]
        waiting = _start(site_db, "--full", "--wait", "120", publish=SHORT_LEASE)
        time.sleep(3 * SHORT_LEASE["LOCK_TTL"])  # the first outlives its lease three times over
        assert waiting.poll() is None and first.poll() is None
    finally:
        _release(site_db)
    assert _finish(first)[0] == 0
    code, output = _finish(waiting)
    assert code == 0, output[-3000:]
    assert "waiting for it to finish" in output
    one, two = _runs(site_db)
    assert one["status"] == "succeeded" and two["status"] == "nothing"  # the first had published it all
    assert one["duration_ms"] > 3 * SHORT_LEASE["LOCK_TTL"] * 1000
    assert two["started_at"] >= one["finished_at"], (one, two)
    _assert_consistent(site_db)


@real_processes
def test_a_killed_publisher_is_taken_over_in_seconds(site_db):
    """kill -9 mid-upload: the publish waiting for it takes the lease at once (the holder's process is
    gone, long before its lease would run out), marks the dead run interrupted and finishes its work."""
    lease = {"LOCK_TTL": 15, "LOCK_HEARTBEAT": 3}  # the defaults
    first = _start(site_db, "--full", delay=0.05, hold_after=10, publish=lease)
    try:
        _wait_for_writes(site_db, 10, first)
        second = _start(site_db, "--wait", "60", publish=lease)
        line = second.stderr.readline()  # its first message: it waits for the first
        assert "waiting for it to finish" in line, line + _finish(second)[1][-3000:]
        assert "pid " in line  # it names the holder's host and process
    finally:
        first.send_signal(signal.SIGKILL)
    killed_at = time.time()
    _finish(first)
    assert _utc(_lock(site_db)["expires_at"]) > time.time()  # the dead holder's lease still runs
    code, output = _finish(second)
    finished = time.time() - killed_at
    assert code == 0, output[-3000:]
    dead, taker = _runs(site_db)
    took_over = taker["started_at"] - killed_at
    print(f"\ntaken over {took_over:.2f} s after kill -9; the target consistent again {finished:.2f} s after it")
    assert took_over < lease["LOCK_HEARTBEAT"], took_over  # at the next poll, not when the lease ends
    assert dead["status"] == "interrupted" and dead["error"].startswith("中断：")
    assert taker["status"] == "succeeded" and taker["uploaded"] > 0
    _assert_consistent(site_db)


@real_processes
def test_a_publisher_without_heartbeat_is_taken_over_once_its_lease_ends(site_db):
    """A holder on another machine cannot be asked whether it lives: its lease runs out LOCK_TTL after
    its last heartbeat, and the next publish (which was waiting) takes over then."""
    lease = {"LOCK_TTL": 6, "LOCK_HEARTBEAT": 1}
    first = _start(site_db, "--full", delay=0.05, hold_after=10, publish=lease)
    _wait_for_writes(site_db, 10, first)
    first.send_signal(signal.SIGKILL)
    killed_at = time.time()
    _finish(first)
    with sqlite3.connect(site_db["db"], timeout=20) as db:
        db.execute("UPDATE deploy_publishlock SET host = 'another-machine'")
    expires = _utc(_lock(site_db)["expires_at"])
    second = _start(site_db, "--wait", "60", publish=lease)
    code, output = _finish(second)
    assert code == 0, output[-3000:]
    dead, taker = _runs(site_db)
    took_over = taker["started_at"] - killed_at
    print(f"\na holder elsewhere was taken over {took_over:.2f} s after it died (lease {lease['LOCK_TTL']} s)")
    assert taker["started_at"] >= expires  # it waited for the lease to end...
    assert took_over <= lease["LOCK_TTL"] + 10  # ...and not much longer (polls every second; start-up)
    assert dead["status"] == "interrupted" and taker["status"] == "succeeded"
    _assert_consistent(site_db)


# -- the publisher process -------------------------------------------------------------------------------
def _publisher(config: dict) -> None:
    """``manage.py publish_site ARGS`` on the shared database file, into the shared folder; with
    ``delay``, each object written is logged and followed by that pause."""
    import cms.settings.base as base
    import cms.settings.test as test_settings

    test_settings.DATABASES = {"default": {**base.DATABASES["default"], "NAME": config["db"]}}
    test_settings.STORAGES = {**test_settings.STORAGES, "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": config["site"], "base_url": "/"},
    }}
    test_settings.SHUYUAN_PUBLISH = {**getattr(test_settings, "SHUYUAN_PUBLISH", {}), **config["publish"]}
    test_settings.ROOT_URLCONF = "tests.deploy.urls"
    test_settings.WAGTAILFRONTENDCACHE = {}
    test_settings.MEDIA_ROOT = config["media_root"]

    import django

    django.setup()
    if config["delay"]:
        from deploy.targets import LocalFolderTarget

        write = LocalFolderTarget.write
        written = [0]

        def slow_write(self, entry, body):
            write(self, entry, body)
            with open(config["log"], "a") as fh:
                fh.write(entry.path + "\n")
            written[0] += 1
            time.sleep(config["delay"])
            if written[0] == config["hold_after"]:
                go = Path(config["log"] + ".go")
                deadline = time.monotonic() + 300
                while not go.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)

        LocalFolderTarget.write = slow_write
    from django.core.management import call_command

    call_command("publish_site", "--no-progress", *config["args"])


if __name__ == "__main__":
    _publisher(json.loads(sys.argv[1]))
