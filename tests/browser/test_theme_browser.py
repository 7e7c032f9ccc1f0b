# ruff: noqa: F811  (the fixtures imported from tests/deploy/conftest.py are arguments of the tests)
"""The published static site in Debian's chromium: the mourning greyscale (on time, without a publish),
the reader's large-text mode (kept, applied before the first paint), the menu on a phone and on a desktop,
breadcrumbs and print styles, all under the static site's own Content-Security-Policy (its <meta> tag:
no inline script may run, so everything here comes from static files)."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from http.server import ThreadingHTTPServer

import pytest
from django.utils import timezone

from tests.deploy.conftest import folder_target, site  # noqa: F401  (fixtures: a small site, a folder target)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# Runs before any script of every document: records CSP violations and whether the large-text class was
# on <html> when <body> first appeared (before anything could be painted).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI), true);
new MutationObserver((records, observer) => {
  if (document.body) {
    window.__careAtFirstBody = document.documentElement.classList.contains("care");
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


# Playwright's sync API runs an event loop, in which Django opens other database connections: the test's
# data must be committed for them (as in the other browser tests).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def published(site, folder_target, settings):  # noqa: F811
    """Publish the site (``again()`` after a change) and serve the folder as the bucket would."""
    from deploy.serve import StaticSiteHandler
    from deploy.service import publish

    # the test publishes when it wants (no background publish after each commit)
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}
    publish(full=True, target=folder_target)
    handler = partial(StaticSiteHandler, directory=str(folder_target.root), manifest_cache={})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Published:
        tree = site
        base = f"http://127.0.0.1:{server.server_address[1]}"

        @staticmethod
        def again():
            handler.keywords["manifest_cache"].clear()
            return publish(target=folder_target)

    try:
        yield Published
    finally:
        server.shutdown()
        server.server_close()


def identity(**values):
    from wagtail.models import Site

    from site_theme.models import SiteIdentity

    obj = SiteIdentity.for_site(Site.objects.get(is_default_site=True))
    for k, v in values.items():
        setattr(obj, k, v)
    obj.save()
    return obj


def new_page(browser, viewport=PHONE, **kwargs):
    context = browser.new_context(viewport=viewport, **kwargs)
    context.add_init_script(WATCH)
    errors = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def grey(page) -> bool:
    return page.evaluate("getComputedStyle(document.documentElement).filter") == "grayscale(1)"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- negative first: without JavaScript ------------------------------------------------------------------
def test_without_javascript_mourning_still_greys_the_menu_fits_and_the_care_button_is_hidden(published, browser, tmp_path):
    now = timezone.now()
    identity(mourning=True, mourning_end=now + timedelta(hours=1))
    assert published.again().plan.full
    page, errors = new_page(browser, java_script_enabled=False)
    page.goto(published.base + published.tree.news.url)
    assert grey(page)  # the class came with the page
    assert not page.locator(".care-toggle").is_visible()  # it would do nothing without the script
    nav = page.get_by_role("navigation", name="主导航")
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "column-mourning-390.png"), full_page=True)
    assert errors == []


# -- mourning: on time in the reader's browser -------------------------------------------------------------
def test_mourning_ends_and_starts_on_time_without_a_publish(published, browser):
    now = timezone.now()
    identity(mourning=True, mourning_end=now + timedelta(hours=1))
    published.again()
    page, errors = new_page(browser)
    page.clock.install(time=now.timestamp())
    page.goto(published.base + published.tree.articles[0].url)
    assert grey(page)
    page.clock.run_for("59:00")
    assert grey(page)
    page.clock.run_for("01:30")
    assert not grey(page)  # ended: the script removed the class (the next publish will leave it out too)
    page.reload()
    assert not grey(page)  # the published page still carries the class, the script knows it has ended
    assert page.evaluate("window.__csp") == [] and errors == []

    # due to start in an hour: no class at publish time, the script adds it when the hour is up
    identity(mourning=True, mourning_start=now + timedelta(hours=1), mourning_end=now + timedelta(hours=2))
    published.again()
    page, errors = new_page(browser)
    page.clock.install(time=now.timestamp())
    page.goto(published.base + published.tree.home.url)
    assert not grey(page)
    page.clock.run_for("01:00:30")
    assert grey(page)
    page.clock.run_for("01:00:00")
    assert not grey(page)
    assert page.evaluate("window.__csp") == [] and errors == []


# -- 大字版 ----------------------------------------------------------------------------------------------
CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                       if (!c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
  const ratio = (el) => { const a = lum(getComputedStyle(el).color), b = lum(bg(el));
                          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  return [...document.querySelectorAll("main p, main a, main h1, main h2, main time, .breadcrumbs a, .breadcrumbs li, footer p, footer a")]
    .filter(el => el.offsetParent !== null && el.textContent.trim())
    .map(el => [el.tagName + " " + el.textContent.trim().slice(0, 20), ratio(el)]);
}"""


def test_large_text_mode_is_kept_applied_before_the_first_paint_and_fits_a_phone(published, browser, tmp_path):
    page, errors = new_page(browser)
    page.goto(published.base + published.tree.news.url)
    button = page.get_by_role("button", name="大字版")
    assert button.get_attribute("aria-pressed") == "false"
    assert page.evaluate("window.__careAtFirstBody") is False
    standard = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert 1.25 <= large / standard <= 1.5
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "column-large-text-390.png"), full_page=True)
    low = [(what, r) for what, r in page.evaluate(CONTRAST) if r < 7]
    assert low == []  # WCAG AAA (7:1) for the text of the page in this mode

    # kept: the next page starts in large text before its body exists (no flash), and says so
    page.goto(published.base + published.tree.articles[0].url)
    assert page.evaluate("window.__careAtFirstBody") is True
    assert page.get_by_role("button", name="大字版").get_attribute("aria-pressed") == "true"
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="大字版").click()
    page.reload()
    assert page.evaluate("window.__careAtFirstBody") is False
    assert page.evaluate("window.__csp") == [] and errors == []


# -- menu, breadcrumbs, headings, print ------------------------------------------------------------------
HEADING_JUMPS = """[...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => +h.tagName[1])
  .reduce((acc, level, i, all) => (i && level > all[i - 1] + 1 ? acc.concat([[all[i - 1], level]]) : acc), [])"""


def test_menu_breadcrumbs_headings_and_print(published, browser, tmp_path):
    tree = published.tree
    page, errors = new_page(browser, viewport=DESKTOP)
    page.goto(published.base + tree.articles[0].url)
    page.screenshot(path=str(tmp_path / "article-1366.png"), full_page=True)
    # one container: the first menu item's text starts where the logo and the content start
    brand = page.locator(".brand").bounding_box()["x"]
    first = page.evaluate("""(() => { const a = document.querySelector('.main-nav a'); const r = document.createRange();
                              r.selectNodeContents(a); return r.getBoundingClientRect().x; })()""")
    h1 = page.locator("main h1").bounding_box()["x"]
    assert abs(first - brand) <= 2 and abs(h1 - brand) <= 2, (brand, first, h1)
    assert page.locator(".main-nav a").first.bounding_box()["y"] == page.locator(".main-nav a").last.bounding_box()["y"]
    # breadcrumbs as schema.org's BreadcrumbList: home › column › this page, positions 1..3
    crumbs = page.locator('.breadcrumbs [itemtype="https://schema.org/BreadcrumbList"] [itemprop=itemListElement]')
    assert crumbs.count() == 3
    assert [crumbs.nth(i).locator("meta[itemprop=position]").get_attribute("content") for i in range(3)] == ["1", "2", "3"]
    assert crumbs.nth(2).get_attribute("aria-current") == "page"
    # listing pages go h1 → h2 (no skipped level)
    for url in (tree.news.url, tree.library.url, tree.red.url, tree.home.url):
        page.goto(published.base + url)
        assert page.evaluate(HEADING_JUMPS) == [], url
    # printed: no menus, and a link in the text shows where it goes
    page.goto(published.base + tree.articles[0].url)
    page.evaluate("""(() => { const a = document.createElement('a'); a.href = 'https://www.gov.cn/'; a.textContent = '中国政府网';
                   a.id = 'printed-link'; document.querySelector('.article .body').appendChild(a); })()""")
    page.emulate_media(media="print")
    for hidden in (".main-nav", ".site-header", ".breadcrumbs", ".footer-links"):
        assert page.locator(hidden).first.evaluate("e => getComputedStyle(e).display") == "none", hidden
    after = page.evaluate("""getComputedStyle(document.getElementById('printed-link'), '::after').content""")
    assert "https://www.gov.cn/" in after
    # the stylesheet names system fonts only: no web font is loaded
    assert page.evaluate("[...document.fonts].length") == 0
    assert page.evaluate("window.__csp") == [] and errors == []
