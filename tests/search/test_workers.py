"""The embedding engine's thread policy (search/workers.py): threads from the worker count and the
cores, overrides, and bad values refused with ImproperlyConfigured naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from search.workers import (
    apply_thread_policy,
    available_cores,
    cgroup_cpu_limit,
    embedding_threads,
    thread_policy,
)

REPO = Path(__file__).resolve().parents[2]


# -- refused ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GRANIAN_WORKERS": "two"}, "GRANIAN_WORKERS"),
        ({"WEB_CONCURRENCY": "1.5"}, "WEB_CONCURRENCY"),
        ({"SHUYUAN_EMBED_THREADS": "0"}, "SHUYUAN_EMBED_THREADS"),
        ({"SHUYUAN_EMBED_THREADS": "-2"}, "SHUYUAN_EMBED_THREADS"),
        ({"SHUYUAN_EMBED_THREADS": "many"}, "SHUYUAN_EMBED_THREADS"),
        ({"OMP_NUM_THREADS": "zero"}, "OMP_NUM_THREADS"),
        ({"OMP_WAIT_POLICY": "sometimes"}, "OMP_WAIT_POLICY"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        thread_policy(env, cores=4)


def test_bad_threads_option_is_refused():
    with pytest.raises(ImproperlyConfigured, match="THREADS"):
        thread_policy({}, cores=4, threads=0)


def test_workers_below_one_are_refused():
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        thread_policy({"GRANIAN_WORKERS": "0", "WEB_CONCURRENCY": "-1"}, cores=4)


@pytest.mark.parametrize(("workers", "cores"), [(0, 2), (2, 0)])
def test_embedding_threads_needs_positive_numbers(workers, cores):
    with pytest.raises(ValueError):
        embedding_threads(workers, cores)


def test_a_refused_policy_leaves_the_environment_alone():
    env = {"SHUYUAN_EMBED_THREADS": "x"}
    with pytest.raises(ImproperlyConfigured):
        apply_thread_policy(env, cores=2)
    assert env == {"SHUYUAN_EMBED_THREADS": "x"}


# -- the default --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("workers", "cores", "threads"),
    [(1, 1, 1), (1, 2, 2), (2, 2, 1), (3, 2, 1), (2, 8, 4), (3, 8, 2), (4, 4, 1), (1, 16, 16)],
)
def test_threads_share_the_cores_between_the_workers(workers, cores, threads):
    assert embedding_threads(workers, cores) == threads
    policy = thread_policy({"GRANIAN_WORKERS": str(workers)}, cores=cores)
    assert (policy.threads, policy.workers, policy.cores, policy.source) == (threads, workers, cores, "default")
    assert policy.threads * policy.workers <= max(cores, workers)


def test_the_larger_of_the_two_worker_variables_counts():
    assert thread_policy({"WEB_CONCURRENCY": "4", "GRANIAN_WORKERS": "2"}, cores=8).threads == 2
    assert thread_policy({}, cores=8).workers == 1  # nothing said: one worker


def test_idle_threads_sleep_by_default():
    assert thread_policy({}, cores=2).wait == "PASSIVE"


def test_cores_default_to_this_process_affinity():
    assert thread_policy({}).cores == available_cores() >= 1


@pytest.mark.parametrize(("text", "limit"), [("max 100000", None), ("150000 100000", 2), ("50000 100000", 1),
                                             ("400000 100000", 4), ("", None), ("garbage", None)])
def test_a_containers_cpu_quota_counts_in_whole_cores(tmp_path, text, limit):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(text + "\n")
    assert cgroup_cpu_limit(cpu_max) == limit
    assert cgroup_cpu_limit(tmp_path / "absent") is None
    cores = len(os.sched_getaffinity(0))
    assert available_cores(cpu_max) == (min(cores, limit) if limit else cores)


# -- overrides ----------------------------------------------------------------------------------------
def test_overrides_in_order_option_then_ours_then_openmps():
    env = {"GRANIAN_WORKERS": "2", "SHUYUAN_EMBED_THREADS": "3", "OMP_NUM_THREADS": "5"}
    assert (thread_policy(env, cores=2, threads=4).threads, thread_policy(env, cores=2, threads=4).source) == (4, "THREADS")
    assert (thread_policy(env, cores=2).threads, thread_policy(env, cores=2).source) == (3, "SHUYUAN_EMBED_THREADS")
    del env["SHUYUAN_EMBED_THREADS"]
    assert (thread_policy(env, cores=2).threads, thread_policy(env, cores=2).source) == (5, "OMP_NUM_THREADS")
    env["OMP_NUM_THREADS"] = "6,2"  # OpenMP's nested form: the first level is the engine's
    assert thread_policy(env, cores=2).threads == 6


def test_an_operators_wait_policy_is_kept():
    assert thread_policy({"OMP_WAIT_POLICY": "active"}, cores=2).wait == "ACTIVE"


def test_apply_writes_what_libgomp_reads():
    env = {"GRANIAN_WORKERS": "2", "PATH": "/bin"}
    policy = apply_thread_policy(env, cores=2)
    assert env == {"GRANIAN_WORKERS": "2", "PATH": "/bin", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    assert "1 embedding thread" in policy.describe()


def test_importing_the_module_changes_nothing():
    """No import-time side effects: a fresh interpreter importing it has no OpenMP variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    code = "import os, search.workers; print(sorted(k for k in os.environ if k.startswith('OMP_')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
