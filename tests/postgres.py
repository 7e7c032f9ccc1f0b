"""A throwaway PostgreSQL cluster for tests that need a real PostgreSQL, and Django processes against it.

``postgres_cluster()`` runs initdb in a temp dir and starts the server on a free port on 127.0.0.1, the unix
socket in the same dir, as the ``postgres`` user when we are root (PostgreSQL refuses root); it is stopped
and removed at the end. It skips the test when there are no PostgreSQL server binaries (initdb, pg_ctl,
postgres on PATH or in /usr/lib/postgresql/*/bin), or when we are root and cannot switch to that user.

Django runs against the cluster in subprocesses (``run_django``): the test process has its SQLite test
database configured, and some code decides things from the database vendor when it is imported.

The whole suite on PostgreSQL: ``pytest -p tests.postgres --postgres`` (``./dev test`` runs it after the
SQLite run). This module is then a pytest plugin: before pytest-django sets Django up, it starts one
cluster for the session and names it in ``SHUYUAN_TEST_DATABASE_URL``, which ``cms.settings.test`` reads;
pytest-django creates its test database there. The cluster is stopped when pytest ends. Without server
binaries ``--postgres`` is a usage error (``python -m tests.postgres`` says whether they exist).
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: cms.settings.test on the database named by DATABASE_URL
SETTINGS = "tests.search.postgres_settings"
SERVER_USER = "postgres"
#: read by cms.settings.test: the server database the whole suite runs on (set by ``--postgres``)
DATABASE_URL_VARIABLE = "SHUYUAN_TEST_DATABASE_URL"


@dataclass
class Cluster:
    url: str
    tmp: Path  # scratch space for the Django processes, removed with the cluster


def _server_bindir() -> Path | None:
    """A directory holding initdb, pg_ctl and postgres: the one of initdb on PATH, else the newest packaged."""
    candidates = []
    if found := shutil.which("initdb"):
        candidates.append(Path(found).resolve().parent)
    packaged = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]
    candidates += sorted(packaged, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _server_user_runner():
    """(how to run an argv as a user PostgreSQL accepts, that user's passwd entry or None for ourselves)."""
    if os.geteuid() != 0:
        return (lambda argv: argv), None
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(f"running as root, which PostgreSQL refuses, and there is no {SERVER_USER!r} user to run it as")
    if runuser := shutil.which("runuser"):
        return (lambda argv: [runuser, "-u", SERVER_USER, "--", *argv]), user
    if su := shutil.which("su"):
        return (lambda argv: [su, SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]), user
    pytest.skip(f"running as root, which PostgreSQL refuses, and neither runuser nor su can switch to {SERVER_USER!r}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(argv: list[str], what: str, timeout: float = 120) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if proc.returncode:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """A running cluster for the ``with`` block (module-scoped fixtures use it), stopped and removed after."""
    bindir = _server_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin")
    as_server_user, user = _server_user_runner()
    base = Path(tempfile.mkdtemp(prefix="shuyuan-pg-"))
    data, log = base / "data", base / "server.log"
    started = False
    try:
        if user is not None:
            os.chown(base, user.pw_uid, user.pw_gid)
        # C locale, UTF-8: the server's parser then keeps a run of Chinese characters as one word
        _run(as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                             "-E", "UTF8", "--no-locale", "--no-sync"]), "initdb")
        for _attempt in range(3):  # another process may take the free port before the server does
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {base} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            proc = subprocess.run(
                as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                "-w", "-t", "60", "start"]),
                capture_output=True, text=True, timeout=90,
            )
            if proc.returncode == 0:
                started = True
                break
        if not started:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{proc.stdout}\n{proc.stderr}\n{server_log}")
        tmp = base / "django"
        tmp.mkdir()
        yield Cluster(url=f"postgres://postgres@127.0.0.1:{port}/postgres", tmp=tmp)
    finally:
        if started:
            _run(as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                 "pg_ctl stop")
        shutil.rmtree(base, ignore_errors=True)


def run_django(cluster: Cluster, *args: str, settings: str = SETTINGS, timeout: float = 600) -> str:
    """``python ARGS...`` from the project root with Django on the cluster; fails the test if it fails.
    Returns its standard output."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": cluster.url,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "TMPDIR": str(cluster.tmp),  # cms.settings.test's media/search dirs go away with the cluster
    }
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


# --- the whole suite on PostgreSQL (a pytest plugin: ``-p tests.postgres --postgres``) ---

_SESSION_CLUSTER = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres", action="store_true", default=False,
        help="run the tests on a throwaway PostgreSQL cluster started for the session (tests/postgres.py)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Start the session's cluster before pytest-django reads the settings (its own hook runs after ours)."""
    namespace = parser.parse_known_args(args)
    if not getattr(namespace, "postgres", False):
        return
    cm = postgres_cluster()
    try:
        cluster = cm.__enter__()
    except pytest.skip.Exception as e:  # no binaries, or root without a postgres user
        raise pytest.UsageError(f"--postgres: {e.msg}") from None
    early_config.stash[_SESSION_CLUSTER] = cm
    # (TMPDIR stays: the cluster's directory belongs to the server's user, and chromium's sandboxed
    # renderers could not read their files under it)
    os.environ[DATABASE_URL_VARIABLE] = cluster.url


def pytest_report_header(config: pytest.Config) -> list[str]:
    if url := os.environ.get(DATABASE_URL_VARIABLE):
        return [f"database: PostgreSQL ({url}, a throwaway cluster for this session)"]
    return []


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    cm = config.stash.get(_SESSION_CLUSTER, None)
    if cm is not None:
        del config.stash[_SESSION_CLUSTER]
        cm.__exit__(None, None, None)


def main(argv: list[str]) -> int:
    """``python -m tests.postgres``: exit 0 when a cluster can be started here, else say why and exit 1."""
    bindir = _server_bindir()
    if bindir is None:
        print("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin")
        return 1
    if os.geteuid() == 0:
        try:
            _server_user_runner()
        except pytest.skip.Exception as e:
            print(e.msg)
            return 1
    print(f"PostgreSQL server binaries: {bindir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
