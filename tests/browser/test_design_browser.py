# ruff: noqa: F811  (the fixtures imported from tests/deploy/conftest.py are arguments of the tests)
"""The page designs of issue #15 on the published static site in Debian's chromium, under the site's own
Content-Security-Policy: the exhibition's zoom (a link to the full-size picture without JavaScript, a
lightbox with Esc and arrow keys with it) and unit navigation, 红色云图's map (a province filters the list,
with or without JavaScript), the study library home, each at 390 px without sideways scrolling and at
1366 px. Screenshots go to ``$SHUYUAN_SHOTS_DIR`` when it is set (else the test's temporary folder)."""

from __future__ import annotations

import os
import threading
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cms.test_design_pages import guided_exhibition
from tests.deploy.conftest import folder_target, site  # noqa: F401  (fixtures: a small site, a folder target)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI), true);
"""

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def published(site, folder_target, settings):  # noqa: F811
    """The small site with a three-unit exhibition, published and served as the bucket would."""
    from deploy.serve import StaticSiteHandler
    from deploy.service import publish

    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}
    guided_exhibition(site)
    publish(full=True, target=folder_target)
    handler = partial(StaticSiteHandler, directory=str(folder_target.root), manifest_cache={})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Published:
        tree = site
        base = f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield Published
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SHUYUAN_SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(browser, viewport=PHONE, **kwargs):
    context = browser.new_context(viewport=viewport, **kwargs)
    context.add_init_script(WATCH)
    errors = []
    page = context.new_page()
    # a picture opened as a document (the zoom without JavaScript) makes chromium ask for /favicon.ico,
    # which the site does not have (its pages name their icon): that one 404 is not the page's
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- negative first: without JavaScript ------------------------------------------------------------------
def test_without_javascript_zoom_opens_the_full_picture_and_a_province_filters_the_list(published, browser):
    page, errors = new_page(browser, java_script_enabled=False)
    page.goto(published.base + published.tree.exhibition.url)
    assert page.locator(".lightbox").count() == 0
    link = page.locator("a[data-zoom]").first
    href = link.get_attribute("href")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(href)
    assert page.evaluate("document.images.length === 1 && document.images[0].naturalWidth") > 960  # full size

    page.goto(published.base + "/zh-hans/red/")
    with page.expect_navigation():
        page.locator(".filters a", has_text="上海市").click()
    assert page.url.endswith("/zh-hans/red/province/shanghai/")
    assert page.locator(".china-map .province.current").get_attribute("data-province") == "shanghai"
    assert page.locator(".venue-list .card").count() == 1
    assert errors == []


# -- with JavaScript -------------------------------------------------------------------------------------
def test_lightbox_opens_steps_with_arrows_closes_with_escape_and_returns_focus(published, browser):
    page, errors = new_page(browser, viewport=DESKTOP)
    page.goto(published.base + published.tree.exhibition.url)
    links = page.locator("a[data-zoom]")
    assert links.count() == 2
    box = page.locator(".lightbox")
    assert box.is_hidden()
    links.first.click()
    assert box.is_visible()
    image = page.locator(".lightbox-image")
    first = image.get_attribute("src")
    assert first == links.first.get_attribute("href")
    page.wait_for_function("document.querySelector('.lightbox-image').naturalWidth > 960")
    assert "1 / 2" in page.locator(".lightbox-caption").inner_text()
    page.keyboard.press("ArrowRight")
    assert image.get_attribute("src") == links.nth(1).get_attribute("href")
    page.keyboard.press("ArrowRight")  # wraps around
    assert image.get_attribute("src") == first
    page.keyboard.press("ArrowLeft")
    assert image.get_attribute("src") == links.nth(1).get_attribute("href")
    page.keyboard.press("Tab")  # focus stays in the dialog
    assert page.evaluate("document.activeElement.closest('.lightbox') !== null")
    page.keyboard.press("Escape")
    assert box.is_hidden()
    assert page.evaluate("document.activeElement.hasAttribute('data-zoom')")
    assert page.evaluate("window.__csp") == [] and errors == []


def test_units_list_and_pager_lead_through_the_exhibition(published, browser):
    page, errors = new_page(browser, viewport=PHONE)
    page.goto(published.base + published.tree.exhibition.url)
    assert [" ".join(t.split()) for t in page.locator(".unit-nav li").all_inner_texts()] == ["序厅", "第一单元 开天辟地", "结语"]
    page.locator("#unit-1 .unit-next").click()
    page.wait_for_function("location.hash === '#unit-2'")
    page.wait_for_function("document.querySelector('[data-unit-link][aria-current]') !== null")
    page.locator("#unit-2 .unit-prev").click()
    page.wait_for_function("location.hash === '#unit-1'")
    assert no_sideways_scroll(page)
    assert page.evaluate("window.__csp") == [] and errors == []


def test_clicking_a_province_on_the_map_filters_the_list(published, browser):
    page, errors = new_page(browser, viewport=DESKTOP)
    page.goto(published.base + "/zh-hans/red/")
    shaded = page.locator(".china-map a path")
    assert shaded.count() == 3  # the three provinces with public venues
    assert page.locator(".china-map path").count() == 34
    with page.expect_navigation():
        page.locator('.china-map path[data-province="jiangxi"]').click()
    assert page.url.endswith("/zh-hans/red/province/jiangxi/")
    metas = page.locator(".venue-list .card .meta").all_inner_texts()
    assert metas and all(t.startswith("江西省") for t in metas)
    assert page.locator(".filters a[aria-current]").first.inner_text().startswith("江西省")
    # beside the list at desktop widths, above it on a phone
    box_map, box_list = page.locator(".red-map").bounding_box(), page.locator(".red-list").bounding_box()
    assert box_map["x"] + box_map["width"] <= box_list["x"]
    assert page.evaluate("window.__csp") == [] and errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
def test_library_exhibition_and_map_fit_and_are_photographed(published, browser, shots, viewport):
    axe = os.environ.get("SHUYUAN_AXE_JS")  # axe-core's axe.min.js (npm), when the machine has it
    page, errors = new_page(browser, viewport=viewport, bypass_csp=bool(axe))  # axe is injected inline
    pages = {
        "library": "/zh-hans/library/",
        "exhibition": published.tree.exhibition.url,
        "red-map": "/zh-hans/red/",
        "red-province": "/zh-hans/red/province/shanghai/",
    }
    for name, url in pages.items():
        page.goto(published.base + url)
        assert no_sideways_scroll(page), name
        if axe:
            page.add_script_tag(content=Path(axe).read_text())
            violations = page.evaluate("axe.run(document).then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))")
            assert violations == [], (name, violations)
        page.screenshot(path=str(shots / f"{name}-{viewport['width']}.png"), full_page=True)
    page.goto(published.base + published.tree.exhibition.url)
    page.locator("a[data-zoom]").first.click()
    page.screenshot(path=str(shots / f"exhibition-zoom-{viewport['width']}.png"))
    assert page.evaluate("window.__csp") == [] and errors == []


# -- members (served by the CMS) ---------------------------------------------------------------------------
def with_account_page():
    """cms.urls with the account page (as the lead's diff adds it), as a urlconf object."""
    from types import ModuleType

    from django.urls import path

    import cms.urls
    from site_theme.account_views import account

    urls = ModuleType("design_urls")  # hashable, as Django's resolver cache needs
    urls.urlpatterns = [path("accounts/", account, name="account"), *cms.urls.urlpatterns]
    return urls


def test_member_signs_in_sees_who_is_signed_in_and_signs_out_on_a_phone(live_server, browser, shots, settings):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.urls import NoReverseMatch, reverse

    from cms import visibility
    from tests.factories import build_site

    try:
        reverse("account")
    except NoReverseMatch:
        settings.ROOT_URLCONF = with_account_page()

    build_site(n_articles=1)
    cache.clear()
    user = get_user_model().objects.create_user("wangfang", password="Member-pw-2026!", first_name="芳", last_name="王")
    user.groups.add(visibility.members_group())
    page, errors = new_page(browser, viewport=PHONE, locale="zh-CN")  # the account pages follow the browser
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator(".member-bar").count() == 0
    assert no_sideways_scroll(page)
    page.screenshot(path=str(shots / "login-390.png"), full_page=True)
    page.get_by_label("用户名").fill("wangfang")
    page.get_by_label("密码").first.fill("Member-pw-2026!")
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert page.url.endswith("/zh-hans/study/search/")
    bar = page.locator(".member-bar")
    assert "王芳" in bar.inner_text()
    page.screenshot(path=str(shots / "members-search-390.png"), full_page=True)
    assert no_sideways_scroll(page)
    account = reverse("account")
    assert bar.get_by_role("link").get_attribute("href") == account
    with page.expect_navigation():
        bar.get_by_role("link").click()
    assert page.locator(".account-name").inner_text() == "王芳（wangfang）"
    assert page.get_by_role("link", name="修改密码").get_attribute("href") == reverse("password_change")
    assert page.get_by_role("link", name="设置双重认证").count() == 0  # a member cannot use the admin
    assert no_sideways_scroll(page)
    page.screenshot(path=str(shots / "account-390.png"), full_page=True)
    page.get_by_role("link", name="修改密码").click()
    page.wait_for_url("**/accounts/password/")
    page.screenshot(path=str(shots / "password-390.png"), full_page=True)
    with page.expect_navigation():
        page.locator(".member-bar").get_by_role("button", name="退出登录").click()
    page.goto(f"{live_server.url}/zh-hans/study/search/")
    assert "/accounts/login/" in page.url and page.locator(".member-bar").count() == 0
    assert page.evaluate("window.__csp") == [] and errors == []
