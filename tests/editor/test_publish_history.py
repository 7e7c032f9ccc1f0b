"""The publish history (报告 → 发布记录) speaks Chinese: the reasons the change feed records for each
edit, the publisher's own reasons, how a run was started, its steps and its lists of changes; runs
recorded with English reasons before are shown in Chinese too."""

from __future__ import annotations

import re

import pytest

from cms import changes
from cms.models import ContentChange
from deploy.models import PublishRun
from deploy.views import reason_label
from tests.factories import build_site

pytestmark = pytest.mark.django_db
LATIN_WORD = re.compile(r"\b(?:published|unpublished|moved|deleted|saved|changed|page|full|publish)\b")


@pytest.fixture
def site(db):
    built = build_site(n_articles=2)
    changes.new_batch()
    return built


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("history", "", "pw"))
    return client


def test_no_reason_the_feed_records_for_an_edit_is_english(site):
    start = changes.latest()
    article, other = site.articles[0], site.articles[1]
    article.title = "新标题"
    article.save_revision().publish()
    article.unpublish()
    other.move(site.notices, pos="last-child")
    other.refresh_from_db()
    other.delete()
    reasons = [r.reason for r in ContentChange.objects.filter(pk__gt=start)]
    assert reasons
    english = [r for r in reasons if LATIN_WORD.search(r)]
    assert not english, english
    joined = " ".join(reasons)
    for expected in ("发布《新标题》", "取消发布《新标题》", "移动《", "删除《"):
        assert expected in joined, (expected, reasons)


def test_english_reasons_of_earlier_runs_read_in_chinese():
    legacy = (
        "published «党课通知»; unpublished «旧闻»; moved «支部»; deleted «草稿»; page «首页» saved; "
        "full publish requested; 3 pages no longer public; page 7 is public but not published; "
        "page 4 moved or changed with 12 descendants; page 2 appears on every page; full publish; "
        "not the configured target: full build (pending changes stay queued for it); view restriction changed"
    )
    shown = reason_label(legacy)
    assert not LATIN_WORD.search(shown), shown
    for expected in ("发布《党课通知》", "取消发布《旧闻》", "移动《支部》", "删除《草稿》", "保存页面《首页》",
                     "请求全站发布", "3 个页面不再公开", "页面 7 已公开", "页面 4 及其下 12 个页面", "全站发布", "访问限制已修改"):
        assert expected in shown, (expected, shown)
    assert reason_label("发布《已是中文》") == "发布《已是中文》"


def test_history_and_run_screens_show_chinese_reason_trigger_steps_and_changes(admin):
    run = PublishRun.objects.create(
        mode=PublishRun.Mode.INCREMENTAL, trigger="auto", status=PublishRun.Status.SUCCEEDED,
        reason="published «党课通知»; 2 pages no longer public",
        timings={"plan": 3, "render": 120, "upload": 40},
        changes={"added": ["/zh-hans/news/a/"], "removed": ["/zh-hans/old/"], "counts": {"added": 1, "removed": 1}},
    )
    history = admin.get(_history_url()).content.decode()
    assert "发布《党课通知》；2 个页面不再公开" in history
    assert "内容修改后自动" in history and "published «" not in history
    detail = admin.get(_run_url(run.pk)).content.decode()
    for expected in ("内容修改后自动", "计划 3 毫秒", "渲染 120 毫秒", "新增", "删除", "发布《党课通知》"):
        assert expected in detail, expected
    assert "no longer public" not in detail and ">added<" not in detail


def _history_url():
    from django.urls import reverse

    return reverse("deploy_history")


def _run_url(pk):
    from django.urls import reverse

    return reverse("deploy_run", args=[pk])
