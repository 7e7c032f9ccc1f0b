"""The change feed (``cms.changes``): one row per content change, written in the editor's transaction,
consumed by publishing, the search index and the API cache from their own cursors."""

from __future__ import annotations

import ast
import io
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page, PageViewRestriction, Site

from cms import changes
from cms.models import ChangeCursor, ContentChange, Topic
from tests.factories import ArticlePageFactory, TopicFactory, build_site, publish

Event = ContentChange.Event
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(db, settings):
    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": True}
    built = build_site(n_articles=2)
    changes.new_batch()  # the site was built in earlier transactions
    return built


@pytest.fixture
def consumers():
    """Two consumers of the test's own, with what they were told; the real ones are left in place."""
    told: dict[str, list] = {"a": [], "b": []}
    for name in told:
        changes.register(name, told[name].extend)
    yield told
    for name in told:
        changes._consumers.pop(name, None)


def new_rows(since: int) -> list[ContentChange]:
    return list(ContentChange.objects.filter(pk__gt=since))


def events(since: int) -> list[tuple[str, int | None, str]]:
    return [(r.event, r.page_id, r.content_type) for r in new_rows(since)]


# -- one row per change, in the same transaction --------------------------------------------------------
def test_a_publish_is_one_row_and_a_draft_none(site, django_capture_on_commit_callbacks):
    article = site.articles[0]
    start = changes.latest()
    article.title = "草稿标题"
    article.save_revision()  # a draft: the live page is unchanged
    assert events(start) == []
    article.save_revision().publish()
    assert events(start) == [(Event.PUBLISHED, article.pk, "")]


def test_a_rolled_back_publish_leaves_no_row_and_notifies_nobody(site, consumers, django_capture_on_commit_callbacks):
    article = site.articles[0]
    start = changes.latest()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            article.title = "回滚的修改"
            article.save_revision().publish()
            assert events(start)  # written in the transaction...
            raise RuntimeError("the editor's request failed")
    assert events(start) == []  # ...and gone with it
    assert consumers == {"a": [], "b": []}
    article = Page.objects.get(pk=article.pk).specific
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    assert [r.event for r in consumers["a"]] == [Event.PUBLISHED]  # told once the transaction commits


def test_every_kind_of_content_event_is_recorded(site, django_capture_on_commit_callbacks):
    from media.models import ShuyuanDocument, ShuyuanImage
    from search.models import DictionaryEntry
    from tests.factories import ColumnPageFactory

    article, other = site.articles
    start = changes.latest()
    changes.acknowledge("search", start)  # what building the site wrote is done (no later change merges with it)

    def last(event: str) -> ContentChange:
        rows = [r for r in new_rows(start) if r.event == event]
        assert rows, f"no {event} row"
        return rows[-1]

    other.unpublish()
    assert last(Event.UNPUBLISHED).page_id == other.pk and last(Event.UNPUBLISHED).subtree
    old_parent = article.get_parent()
    column = ColumnPageFactory(parent=site.home, title="新栏目", slug="new-column")
    article.move(column, pos="last-child")
    moved = last(Event.MOVED)
    assert (moved.page_id, moved.pages, moved.subtree) == (article.pk, [old_parent.pk], True)
    Page.objects.get(pk=site.news.pk).save()  # a live page row saved outside a publish
    assert last(Event.PAGE_SAVED).page_id == site.news.pk

    restriction = PageViewRestriction.objects.create(page=column, restriction_type=PageViewRestriction.GROUPS)
    before = changes.latest()
    restriction.groups.add(Group.objects.create(name="学习小组"))
    assert [r.event for r in new_rows(before)] == [Event.RESTRICTION]
    restriction.delete()
    assert last(Event.RESTRICTION).page_id == column.pk

    image = ShuyuanImage.objects.create(title="图", file=_png(), width=1, height=1)
    assert last(Event.ADDED).content_type == "media.ShuyuanImage"
    document = ShuyuanDocument.objects.create(title="文件", file=ContentFile(b"x", name="a.txt"))
    document.title = "换了文件"
    document.save()
    assert (last(Event.CHANGED).content_type, last(Event.CHANGED).object_id) == ("media.ShuyuanDocument", str(document.pk))
    image.delete()
    assert last(Event.REMOVED).content_type == "media.ShuyuanImage"

    topic = Topic.objects.get()
    materials = {m.pk for m in site.materials}
    topic.delete()  # what showed it is known only before the delete
    removed = last(Event.REMOVED)
    assert removed.content_type == "cms.Topic" and materials <= set(removed.pages)
    assert site.library.pk in removed.listings
    TopicFactory(name="新专题", slug="new-topic")
    assert last(Event.ADDED).content_type == "cms.Topic"

    DictionaryEntry.objects.create(word="书苑云课堂")
    assert last(Event.DICTIONARY).content_type == "search.DictionaryEntry"
    Site.objects.get(is_default_site=True).save()
    assert last(Event.SITE).content_type == "wagtailcore.Site"
    Locale.objects.create(language_code="en")
    assert last(Event.SITE).content_type == "wagtailcore.Locale"

    column.delete()
    deleted = last(Event.DELETED)
    assert deleted.page_id in {column.pk, article.pk} and site.home.pk in deleted.pages


def test_scheduled_expiry_is_an_unpublish(site):
    from django.core.management import call_command

    article = site.articles[0]
    article.expire_at = timezone.now() - timedelta(minutes=1)
    article.save_revision().publish()
    start = changes.latest()
    call_command("publish_scheduled", stdout=io.StringIO())
    assert (Event.UNPUBLISHED, article.pk, "") in events(start)


def _png() -> ContentFile:
    import base64

    return ContentFile(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
        ),
        name="p.png",
    )


# -- consumers and cursors ------------------------------------------------------------------------------
def test_each_consumer_catches_up_from_its_own_cursor(site, consumers):
    start = changes.latest()
    changes.acknowledge("a", start)
    changes.acknowledge("b", start)
    first, second = site.articles
    publish(first)
    publish(second)
    rows, upto = changes.pending("a")
    assert [r.page_id for r in rows] == [first.pk, second.pk]
    changes.acknowledge("a", rows[0].pk)
    assert [r.page_id for r in changes.pending("a").changes] == [second.pk]
    assert changes.backlog("a") == 1 and changes.backlog("b") == 2  # b has its own cursor
    changes.acknowledge("a", upto)
    changes.acknowledge("a", rows[0].pk)  # a cursor never moves back
    assert changes.backlog("a") == 0 and changes.position("a") == upto


def test_pruning_keeps_the_rows_a_consumer_still_needs(site, consumers):
    for name in ("publish", "search", "a", "b"):
        changes.acknowledge(name, changes.latest())
    first, second = site.articles
    publish(first)
    publish(second)
    rows = changes.pending("a").changes
    changes.acknowledge("a", rows[-1].pk)
    assert ContentChange.objects.filter(pk__in=[r.pk for r in rows]).count() == 2  # b has not read them
    changes.acknowledge("b", rows[0].pk)
    for name in ("publish", "search"):
        changes.acknowledge(name, rows[-1].pk)
    assert list(ContentChange.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True)) == [rows[-1].pk]
    changes.acknowledge("b", rows[-1].pk)
    assert not ContentChange.objects.filter(pk__in=[r.pk for r in rows]).exists()


def test_a_change_committed_after_a_later_one_is_not_skipped(site, consumers):
    """On PostgreSQL a transaction that took a lower id can commit after a consumer read past it."""
    for name in ("publish", "search", "a", "b"):
        changes.acknowledge(name, changes.latest())
    first, second = site.articles
    publish(first)
    publish(second)
    late = ContentChange.objects.filter(page_id=first.pk).latest("pk")
    snapshot = {f.attname: getattr(late, f.attname) for f in ContentChange._meta.concrete_fields}
    late.delete()  # not committed yet when "a" reads
    rows, upto = changes.pending("a")
    assert [r.page_id for r in rows] == [second.pk] and upto.missing == (snapshot["id"],)
    changes.acknowledge("a", upto)
    for name in ("publish", "search", "b"):
        changes.acknowledge(name, changes.latest())
    ContentChange.objects.create(**snapshot)  # ...now it commits
    assert ContentChange.objects.filter(pk=snapshot["id"]).exists()  # pruning kept its place
    rows, upto = changes.pending("a")
    assert [r.pk for r in rows] == [snapshot["id"]] and changes.backlog("a") == 1
    changes.acknowledge("a", upto)
    assert changes.backlog("a") == 0 and not changes.pending("a").changes


def test_a_rolled_back_id_is_forgotten_after_a_while(site, consumers, monkeypatch):
    changes.acknowledge("a", changes.latest())
    publish(site.articles[0])
    publish(site.articles[1])
    gone = ContentChange.objects.filter(page_id=site.articles[0].pk).latest("pk")
    gone_id = gone.pk
    gone.delete()
    changes.acknowledge("a", changes.pending("a").upto)
    assert [i for i, _t in ChangeCursor.objects.get(consumer="a").gaps] == [gone_id]
    later = time.time() + changes.GAP_TTL + 1
    monkeypatch.setattr(changes.time, "time", lambda: later)
    changes.acknowledge("a", changes.pending("a").upto)
    assert ChangeCursor.objects.get(consumer="a").gaps == []


def test_publishing_ignores_what_the_static_site_does_not_show(site, django_capture_on_commit_callbacks):
    from deploy import pending

    changes.acknowledge("publish", changes.latest())
    with mock.patch("deploy.tasks.enqueue_publish") as enqueue, django_capture_on_commit_callbacks(execute=True):
        site.articles[0].save_revision()  # a draft
        ArticlePageFactory(parent=site.news, title="新草稿", live=False)  # a new page, not published
    assert not pending.exists() and not enqueue.called
    with mock.patch("deploy.tasks.enqueue_publish") as enqueue, django_capture_on_commit_callbacks(execute=True):
        publish(site.articles[0])
    assert pending.exists() and enqueue.call_count == 1


def test_the_search_cursor_stays_put_while_the_engine_is_down(site, settings):
    from search import indexing
    from search.backends.base import SearchUnavailable
    from search.documents import document_id
    from search.loader import get_search_backend

    indexing.rebuild()
    article = site.articles[0]
    article.title = "停机时改的标题"
    publish(article)
    position = changes.position("search")
    backend = get_search_backend()
    with mock.patch.object(backend, "index", side_effect=SearchUnavailable("down")), pytest.raises(SearchUnavailable):
        indexing.catch_up()
    assert changes.position("search") == position and indexing.backlog() == 1
    assert indexing.catch_up() == 1
    assert indexing.backlog() == 0
    assert document_id(article.pk) in backend.document_ids()


def test_a_rebuild_covers_every_earlier_change(site):
    from search import indexing

    publish(site.articles[0])
    assert indexing.backlog() > 0
    indexing.rebuild()
    assert indexing.backlog() == 0


def test_one_deferral_check_and_one_back_off(settings):
    from django_tasks import default_task_backend

    from cms import jobs
    from deploy.tasks import process_changes

    assert not jobs.can_defer(process_changes)  # the tests' immediate backend runs jobs at once
    assert jobs.retry_later(process_changes, 0, delays=[5, 50]) is None
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert jobs.can_defer(process_changes)
    default_task_backend.clear()
    assert jobs.retry_later(process_changes, 0, delays=[5, 50]) == 5
    assert jobs.retry_later(process_changes, 1, delays=[5, 50]) == 50
    assert jobs.retry_later(process_changes, 2, delays=[5, 50]) is None  # given up
    assert jobs.retry_later(process_changes, 9, delays=[5, 50], repeat_last=True) == 50
    queued = default_task_backend.results
    assert [r.kwargs["attempt"] for r in queued] == [1, 2, 10]
    assert all(r.task.run_after > timezone.now() for r in queued)


# -- no import cycles ---------------------------------------------------------------------------------
FLOW = ("cms.changes", "cms.jobs", "cms.models.changes", "deploy.pending", "deploy.tasks", "search.indexing", "search.tasks")


def _imports(path: Path, module: str) -> set[str]:
    """Every project module ``module`` imports, at the top or inside a function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def test_the_change_flow_has_no_import_cycle():
    modules = {}
    for package in ("cms", "deploy", "search", "media"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    graph = {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo += graph[m]
        return False

    cyclic = [m for m in FLOW if reaches(m, m)]
    assert cyclic == []
    assert "search.tasks" not in graph["search.indexing"]  # services never import the jobs
    assert not any(m.startswith(("deploy", "search")) for m in graph["cms.changes"])  # cms is below them
