"""The publish as named steps (``deploy.publisher``): each step ends a timed phase that renews the lease,
and the run's bookkeeping (``PublishRun``) records what the history report shows."""

from __future__ import annotations

import pytest

from deploy.manifest import MANIFEST_PATH, Diff, Entry
from deploy.models import PublishLock, PublishRun
from deploy.service import LeaseLost, publish


def site_paths(target) -> set[str]:
    return {p for p in target.list_paths() if not p.startswith("_shuyuan/")}

ALL_PHASES = ["plan", "render", "check", "diff", "upload_assets", "upload_pages", "manifest", "delete", "purge", "finish"]


def test_every_step_is_timed_in_order(site, folder_target):
    first = publish(full=True, target=folder_target).run
    assert list(first.timings) == ALL_PHASES
    assert first.duration_ms >= sum(first.timings.values()) - len(ALL_PHASES)  # the phases fit in the run
    assert list(publish(target=folder_target).run.timings) == ["plan"]  # nothing to do: stops after planning
    article = site.articles[0]
    article.title = "演练中的标题"
    article.save_revision().publish()
    dry = publish(target=folder_target, dry_run=True).run
    assert dry.status == PublishRun.Status.DRY_RUN
    assert list(dry.timings) == ["plan", "render", "check", "diff"]


def test_a_publish_that_lost_its_lease_stops_before_writing(site, folder_target):
    """Another publish took the lease while this one rendered: it stops at the end of the phase, before
    the checks and the upload, and leaves the other publish's lease alone."""

    def steal_the_lease(phase, done, total):
        if phase == "render":
            PublishLock.objects.filter(name=folder_target.key).update(holder="another-publish")

    with pytest.raises(LeaseLost):
        publish(full=True, target=folder_target, progress=steal_the_lease)
    run = PublishRun.objects.get()
    assert run.status == PublishRun.Status.FAILED and run.error.startswith("LeaseLost: lost the lease on ")
    assert "Traceback" in run.error and run.finished_at is not None
    assert list(run.timings) == ["plan", "render"]
    assert site_paths(folder_target) == set() and folder_target.read(MANIFEST_PATH) is None
    assert PublishLock.objects.get(name=folder_target.key).holder == "another-publish"


def entry(n: int, kind: str = "page") -> Entry:
    return Entry(path=f"zh-hans/p{n}/index.html", sha256=str(n), size=1, content_type="text/html",
                 cache_control="", kind=kind, url=f"/zh-hans/p{n}/")


def test_the_changes_sample_is_capped_but_the_counts_are_not():
    run = PublishRun(mode=PublishRun.Mode.FULL)
    d = Diff(added=[entry(n) for n in range(250)], changed=[entry(1000)], removed=[], unchanged=7)
    run.note_changes(d, deletions=[f"old/{n}.html" for n in range(300)], repair=[entry(2000), entry(2001)])
    assert run.changes["counts"] == {"added": 250, "changed": 1, "removed": 300, "repaired": 2}
    assert len(run.changes["added"]) == 200 and len(run.changes["removed"]) == 200
    assert run.changes["changed"] == ["/zh-hans/p1000/"]
    assert run.changes["repaired"] == ["/zh-hans/p2000/", "/zh-hans/p2001/"]
    assert (run.uploaded, run.unchanged, run.deleted) == (253, 7, 300)
