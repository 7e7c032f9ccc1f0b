# ruff: noqa: F811  (the fixtures imported from tests/deploy/conftest.py are arguments of the tests)
"""The site's identity (footer) and the mourning greyscale: edited in the admin's settings, shown on every
published page by the next publish (a FULL change in the feed for the static site's publisher)."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils import timezone

from cms.models import ContentChange
from deploy import pending as feed
from deploy.conf import PUBLISH_CONSUMER
from deploy.service import publish
from site_theme.models import DEMO_IDENTITY, SiteIdentity, apply_mourning_schedule, load_demo_identity
from tests.deploy.conftest import folder_target, site  # noqa: F401  (fixtures: a small site, a folder target)

Event = ContentChange.Event


def html_pages(target) -> dict[str, str]:
    return {
        p: target.read(p).decode()
        for p in target.list_paths()
        if p.endswith(".html") and not p.startswith("_shuyuan/") and p != "index.html"  # index.html: root redirect
    }


def full_requests() -> list[ContentChange]:
    return list(ContentChange.objects.filter(event=Event.FULL))


def the_identity(site_tree, **values) -> SiteIdentity:
    from wagtail.models import Site

    identity = SiteIdentity.for_site(Site.objects.get(is_default_site=True))
    for k, v in values.items():
        setattr(identity, k, v)
    identity.save()
    return identity


# -- negative first -----------------------------------------------------------------------------------
def test_without_an_identity_the_footer_is_the_old_line_and_a_publish_writes_no_row(site, folder_target):
    publish(full=True, target=folder_target)
    assert not SiteIdentity.objects.exists()  # rendering read the setting without creating it
    pages = html_pages(folder_target)
    assert len(pages) > 10
    for path, html in pages.items():
        assert "主办单位保留所有权利" in html, path
        assert "beian.miit.gov.cn" not in html
        assert "mourning" not in html.split("<head>")[0], path  # no class, no data attribute on <html>


def test_the_empty_row_the_settings_page_creates_asks_for_nothing(site):
    from wagtail.models import Site

    before = len(full_requests())
    SiteIdentity.for_site(Site.objects.get(is_default_site=True))  # what opening the admin's form does
    assert SiteIdentity.objects.count() == 1
    assert len(full_requests()) == before


def test_a_fixture_load_asks_for_nothing(site):
    from wagtail.models import Site

    from site_theme.signals import on_identity_saved

    row = SiteIdentity(site=Site.objects.get(is_default_site=True), organisation="某单位")
    before = len(full_requests())
    on_identity_saved(SiteIdentity, row, created=False, raw=True)
    assert len(full_requests()) == before


# -- the footer -----------------------------------------------------------------------------------------
def test_saving_the_identity_makes_the_next_publish_rebuild_every_page_with_the_footer(site, folder_target):
    publish(full=True, target=folder_target)
    assert not feed.exists()
    before = html_pages(folder_target)

    the_identity(site, **DEMO_IDENTITY)
    rows = full_requests()
    assert len(rows) == 1 and rows[0].consumer == PUBLISH_CONSUMER and rows[0].reason == "修改站点信息"
    assert feed.exists()
    assert feed.plan(feed.load(True)[0]).full

    result = publish(target=folder_target)
    assert result.plan.full
    changed = {e.path for e in result.diff.changed}
    after = html_pages(folder_target)
    assert set(after) == set(before) and set(before) <= changed  # every page re-rendered and changed
    for path, html in after.items():
        assert "主办单位：书苑编辑部" in html, path
        assert '<a href="https://beian.miit.gov.cn/" rel="noopener" target="_blank">京ICP备00000000号-1</a>' in html
        assert "beian.mps.gov.cn/#/query/webSearch?code=11010102000000" in html and "京公网安备11010102000000号" in html
        assert "网站标识码：0000000000" in html
        assert 'href="tel:01012345678"' in html and 'href="mailto:contact@example.org"' in html
        assert "北京市东城区书苑胡同1号" in html
    assert not feed.exists()


def test_the_footer_speaks_the_page_language():
    identity = SiteIdentity(**DEMO_IDENTITY)
    assert identity.organisation_in("zh-hans") == "书苑编辑部"
    assert identity.organisation_in("zh-hant") == "書苑編輯部"
    assert identity.organisation_in("en") == "Shuyuan Editorial Office"
    assert identity.address_in("en").startswith("No. 1 Shuyuan Hutong")
    assert SiteIdentity(organisation="书苑编辑部").organisation_in("en") == "书苑编辑部"  # no English: as entered
    # a police number's own link, or the one an editor gave
    assert SiteIdentity(police_url="https://example.org/x").police_link == "https://example.org/x"
    assert SiteIdentity(police_number="").police_link == "https://beian.mps.gov.cn/#/query/webSearch"


def test_the_demo_identity_keeps_what_an_editor_set(site):
    the_identity(site, organisation="中共某某委员会宣传部")
    identity = load_demo_identity()
    assert identity.organisation == "中共某某委员会宣传部"
    assert identity.icp_number == DEMO_IDENTITY["icp_number"]
    identity.refresh_from_db()
    assert identity.address == DEMO_IDENTITY["address"]


def test_the_admin_edits_it_under_settings_in_chinese(site, client):
    from django.contrib.auth import get_user_model
    from wagtail.models import Site

    user = get_user_model().objects.create_superuser("editor", "", "pw")
    client.force_login(user)
    site_id = Site.objects.get(is_default_site=True).pk
    url = f"/admin/settings/site_theme/siteidentity/{site_id}/"
    response = client.get(url, HTTP_HOST="localhost")
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("站点信息", "主办单位", "ICP备案号", "公安备案号", "网站标识码", "哀悼日置灰", "置灰结束时间"):
        assert label in html, label
    menu = client.get("/admin/", HTTP_HOST="localhost").content.decode()
    assert "/admin/settings/site_theme/siteidentity/" in menu  # the settings menu links to it
    # an editor's save through the form asks for a full publish
    form = {"organisation": "中共某某委员会宣传部", "mourning": "on", "mourning_start": "", "mourning_end": "",
            "organisation_en": "", "address": "", "address_en": "", "postcode": "", "phone": "", "email": "",
            "icp_number": "", "police_number": "", "police_url": "", "site_code": ""}
    before = len(full_requests())
    response = client.post(url, form, HTTP_HOST="localhost")
    assert response.status_code == 302, response.content.decode()[:2000]
    identity = SiteIdentity.objects.get(site_id=site_id)
    assert identity.organisation == "中共某某委员会宣传部" and identity.mourning and identity.mourning_published
    assert len(full_requests()) == before + 1


# -- mourning ---------------------------------------------------------------------------------------------
def html_tag(html: str) -> str:
    return html[html.index("<html"):html.index(">", html.index("<html")) + 1]


def test_mourning_that_ended_or_is_off_greys_nothing(site, folder_target):
    now = timezone.now()
    the_identity(site, mourning=True, mourning_end=now - timedelta(minutes=1))
    publish(full=True, target=folder_target)
    for path, html in html_pages(folder_target).items():
        assert "mourning" not in html_tag(html), path
    identity = SiteIdentity.objects.get()
    assert not identity.mourning_active() and not identity.mourning_published
    assert apply_mourning_schedule() == 0  # nothing to republish: it was never shown


def test_mourning_switched_on_greys_every_page_by_the_next_publish_and_off_again(site, folder_target):
    publish(full=True, target=folder_target)
    identity = the_identity(site, mourning=True)
    assert SiteIdentity.objects.get().mourning_published
    result = publish(target=folder_target)
    assert result.plan.full
    pages = html_pages(folder_target)
    for path, html in pages.items():
        assert html_tag(html).endswith(' class="mourning" data-mourning="on">'), (path, html_tag(html))
    assert "/static/site_theme/theme." in pages["zh-hans/index.html"]  # the script that ends it on time

    identity.mourning = False
    identity.save()
    assert publish(target=folder_target).plan.full
    for path, html in html_pages(folder_target).items():
        assert "mourning" not in html_tag(html), path


def test_mourning_with_times_carries_them_and_the_tick_republishes_when_they_pass(site, folder_target):
    now = timezone.now()
    start, end = now + timedelta(hours=1), now + timedelta(hours=25)
    the_identity(site, mourning=True, mourning_start=start, mourning_end=end)
    publish(full=True, target=folder_target)
    tag = html_tag(html_pages(folder_target)["zh-hans/news/index.html"])
    # not active yet: no class, but the times (UTC, as every browser's Date.parse reads them) for theme.js
    assert 'class=""' in tag and 'data-mourning="on"' in tag
    assert f'data-mourning-from="{start.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"' in tag
    assert f'data-mourning-until="{end.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"' in tag

    feed.acknowledge(ContentChange.objects.latest("id").pk)
    assert apply_mourning_schedule(now) == 0 and not feed.exists()  # nothing has passed yet
    assert apply_mourning_schedule(start + timedelta(seconds=1)) == 1
    assert feed.exists() and full_requests()[-1].reason == "哀悼日置灰开始"
    assert apply_mourning_schedule(start + timedelta(seconds=2)) == 0  # asked once
    assert apply_mourning_schedule(end) == 1 and full_requests()[-1].reason == "哀悼日置灰结束"
    assert apply_mourning_schedule(end + timedelta(days=1)) == 0
