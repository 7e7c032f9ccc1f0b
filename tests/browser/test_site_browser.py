"""The public pages as a visitor's phone shows them, in Debian's chromium driven by Playwright."""

import re

import pytest


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_home_and_article_read_well_on_a_phone(live_server, browser, tmp_path):
    from django.core.cache import cache

    from tests.factories import build_site

    tree = build_site(n_articles=3)
    cache.clear()
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(f"{live_server.url}/")
    assert page.url.endswith("/zh-hans/")
    assert page.locator("h1").first.inner_text() == tree.home.title
    # no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="新闻动态").is_visible()
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    nav.get_by_role("link", name="新闻动态").click()
    page.wait_for_url("**/zh-hans/news/")
    page.get_by_role("link", name=tree.articles[0].title).first.click()
    assert page.locator("h1").inner_text() == tree.articles[0].title
    assert page.get_by_role("navigation", name="当前位置").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # the members-only article is not listed to visitors
    page.goto(f"{live_server.url}{tree.news.url}")
    assert page.get_by_text(tree.members_article.title).count() == 0
    # the stylesheet is local (works on an intranet): no request leaves the server
    external = page.evaluate(
        "[...document.querySelectorAll('link[href],script[src],img[src]')]"
        ".map(e => e.href || e.src).filter(u => !u.startsWith(location.origin))"
    )
    assert external == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_public_search_page_finds_public_material_only(live_server, browser, settings):
    from django.core.cache import cache
    from django.core.management import call_command

    from tests.factories import ArticlePageFactory, build_site

    tree = build_site(n_articles=1)
    ArticlePageFactory(parent=tree.news, title="三会一课制度学习要点", summary="认真落实三会一课制度。")
    ArticlePageFactory(parent=tree.news, title="三会一课会员内部交流", audience="members")
    call_command("search_index", "rebuild", verbosity=0)
    settings.SHUYUAN_PUBLIC_API_URL = live_server.url
    cache.clear()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}{tree.library.url}")
    page.get_by_role("search").get_by_role("searchbox").fill("三会一课")
    page.get_by_role("search").get_by_role("button").click()
    page.wait_for_url("**/library/search/?q=*")
    results = page.locator("#search-results li")
    results.first.wait_for()
    texts = results.all_inner_texts()
    assert any("三会一课制度学习要点" in t for t in texts)
    assert not any("会员内部交流" in t for t in texts)
    assert page.locator("#search-results mark").first.inner_text() == "三会一课"
    # opening a result reports the click (a beacon to the CMS) for the editors' click-through report
    from search.models import SearchClick

    with page.expect_navigation():
        page.locator("#search-results a", has_text="三会一课制度学习要点").click()
    for _ in range(50):
        if SearchClick.objects.exists():
            break
        page.wait_for_timeout(100)
    click = SearchClick.objects.get()
    assert click.position >= 1 and click.log.query == "三会一课"
    page.go_back()
    results.first.wait_for()
    # facets narrow the results and are kept in the page's URL; the sort order can be changed
    facets = page.locator("#search-facets")
    article_kind = facets.get_by_role("button", name=re.compile(r"^栏目文章 \(\d+\)$"))
    article_kind.click()
    page.wait_for_url("**kind=article*")
    page.wait_for_selector('#search-facets button[aria-pressed="true"]')  # the filtered answer arrived
    assert article_kind.get_attribute("aria-pressed") == "true"
    assert any("三会一课制度学习要点" in t for t in page.locator("#search-results li").all_inner_texts())
    page.get_by_role("combobox", name="排序").select_option("date")
    page.wait_for_url("**sort=date*")
    # autocomplete offers public titles and terms, never the members-only title
    box = page.get_by_role("search").get_by_role("combobox").or_(page.get_by_role("search").get_by_role("searchbox"))
    box.first.fill("")
    box.first.press_sequentially("三会")
    page.wait_for_selector("datalist option", state="attached")  # (wait_for_function would need eval, which the CSP forbids)
    options = page.evaluate("[...document.querySelectorAll('datalist option')].map(o => o.value)")
    assert any("三会一课" in o for o in options)
    assert not any("会员内部交流" in o for o in options)
    # without words the page offers browsing by kind: newest first, public items only, then facets
    page.goto(f"{live_server.url}{tree.library.url}search/")
    page.locator("#search-facets").get_by_role("button", name="栏目文章").click()
    page.wait_for_url("**kind=article*")
    results.first.wait_for()
    texts = page.locator("#search-results li").all_inner_texts()
    assert any("三会一课制度学习要点" in t for t in texts)
    assert not any("会员内部交流" in t for t in texts)
    page.wait_for_selector('#search-facets button[aria-pressed="true"]')
    facets.get_by_role("button", name=re.compile(r"^栏目文章 \(\d+\)$")).click()  # un-pressing it goes back to browsing
    page.locator("#search-facets").get_by_role("button", name="学习资料").wait_for()
    assert page.locator("#search-results li").count() == 0
