"""The autosave race as an editor meets it, in a real browser: 发布 clicked while the form's first
autosave has created the draft on the server but the browser has not heard back yet. The page must
be published once, with no slug error and no orphan draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, browser  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publish_during_the_first_autosave_publishes_one_page(live_server, browser, settings):  # noqa: F811
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cms.models import ColumnPage
    from tests.factories import build_site

    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    tree = build_site(n_articles=1)
    editor = get_user_model().objects.create_superuser("race-editor", "", "pw")
    client = Client()
    client.force_login(editor)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    page = context.new_page()
    held = []  # autosave answers the server has given and the browser has not yet received

    seen = []

    def hold_autosave(route):
        request = route.request
        seen.append((request.method, request.url, dict(request.headers)))
        if request.method == "POST" and "application/json" in (request.headers.get("accept") or ""):
            response = route.fetch()  # the server creates the draft now
            held.append((route, response))
        else:
            route.continue_()

    add_url = f"/admin/pages/add/cms/columnpage/{tree.home.pk}/"
    page.route(f"**{add_url}", hold_autosave)
    page.goto(add_url)
    page.fill("#id_title", "支部风采")
    page.locator("#id_title").press("Tab")
    page.evaluate("() => { const s = document.querySelector('#id_slug'); if (!s.value) s.value = 'branch-life'; }")
    # what Wagtail's unsaved-changes controller announces once it sees the edit (it checks on a timer);
    # Wagtail's own autosave controller answers it by posting the form
    page.evaluate(
        """() => document.querySelector('form[data-controller~="w-autosave"]')
            .dispatchEvent(new CustomEvent('w-unsaved:add', {bubbles: true, cancelable: true}))"""
    )
    for _ in range(60 * 4):
        if held:
            break
        page.wait_for_timeout(250)
    assert held, ("the form never autosaved", [(m, u) for m, u, _h in seen])
    assert held[0][1].status == 200, held[0][1].text()[:2000]
    assert ColumnPage.objects.filter(title="支部风采", live=False).count() == 1  # the draft exists
    page.locator("footer [data-w-dropdown-target=toggle]").click()
    with page.expect_navigation():
        page.locator('button[name="action-publish"]').click()
    for route, response in held:
        route.fulfill(response=response)
    assert "/add/" not in page.url  # not the form again (with a slug error)
    pages = list(ColumnPage.objects.filter(title="支部风采"))
    assert len(pages) == 1, pages
    assert pages[0].live
    context.close()
