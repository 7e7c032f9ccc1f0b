"""The dashboard's charts render in a real browser under the admin's Content-Security-Policy, with no
console errors (chromium through Playwright; skipped, saying why, without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, browser  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_home_shows_the_charts_without_console_errors(live_server, browser, tmp_path):  # noqa: F811
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from search.models import QueryLog
    from tests.factories import build_site

    tree = build_site(n_articles=3)
    tree.articles[0].save_revision().publish()  # a first publication this month
    QueryLog.objects.create(query="党建", results=3, scope="public")
    QueryLog.objects.create(query="无此词", results=0, scope="public")
    admin = get_user_model().objects.create_superuser("dash-admin", "", "pw")
    client = Client()
    client.force_login(admin)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 1600})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    errors = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")

    dashboard = page.locator(".shuyuan-dashboard")
    dashboard.wait_for()
    assert dashboard.locator("svg.shuyuan-chart").count() >= 5
    # the months chart has twelve columns and its bars are drawn (styled by dashboard.css)
    months = dashboard.locator('[data-dashboard="months"] svg rect.bar')
    assert months.count() == 12
    assert any(float(months.nth(i).get_attribute("height")) > 0 for i in range(12))
    box = dashboard.locator('[data-dashboard="columns"] svg rect.bar').first.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 5
    fill = dashboard.locator('[data-dashboard="columns"] svg rect.bar').first.evaluate(
        "el => getComputedStyle(el).fill"
    )
    assert fill not in ("", "none")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert errors == [], errors
    context.close()
