"""Editors' redirects reach the static site when they lead somewhere public, and only then.

Negative cases first: a redirect to a members-only or internal page, to a draft, to a path of the site
the publisher can't check, with a query string, or over a published page's own address is never
published; then the ones to a public page or an external address are, at the old path with and
without its trailing slash, and a page's move leaves a redirect from its old address (Wagtail creates it).
"""

from __future__ import annotations

import pytest
from wagtail.contrib.redirects.models import Redirect

from deploy.redirects import static_redirects
from tests.factories import ArticlePageFactory, build_site


@pytest.fixture
def tree(db):
    return build_site(n_articles=2)


def plan_of(**kwargs):
    plan = static_redirects(**kwargs)
    return {r.old_path: r.location for r in plan.redirects}, dict(plan.skipped)


def test_redirects_to_restricted_or_unpublished_pages_are_never_published(tree):
    draft = ArticlePageFactory(parent=tree.news, title="草稿", live=False)
    Redirect.objects.create(old_path="/old/members", redirect_page=tree.members_article)
    Redirect.objects.create(old_path="/old/internal", redirect_page=tree.internal_article)
    Redirect.objects.create(old_path="/old/draft", redirect_page=draft)
    Redirect.objects.create(old_path="/old/below-members", redirect_page=tree.members_material)
    published, skipped = plan_of()
    assert published == {}
    assert set(skipped) == {"/old/members", "/old/internal", "/old/draft", "/old/below-members"}
    assert all(why == "目标页面不公开" for why in skipped.values())


def test_unverifiable_or_ambiguous_redirects_are_left_out_with_a_reason(tree):
    Redirect.objects.create(old_path=Redirect.normalise_path("/search?q=党建"), redirect_link="https://example.org/")
    Redirect.objects.create(old_path="/old/admin", redirect_link="/admin/")
    Redirect.objects.create(old_path="/old/js", redirect_link="javascript:alert(1)")
    Redirect.objects.create(old_path=Redirect.normalise_path(tree.articles[0].url), redirect_page=tree.articles[1])
    # over a members-only page's own address: publishing it would put a public page where a restricted one lives
    Redirect.objects.create(old_path=Redirect.normalise_path(tree.members_article.url), redirect_page=tree.articles[1])
    published, skipped = plan_of()
    assert published == {}
    assert skipped["/old/admin"] == skipped["/old/js"] == "目标不是公开页面或外部网址"
    assert skipped[Redirect.normalise_path(tree.articles[0].url)] == "旧地址上已有页面"
    assert skipped[Redirect.normalise_path(tree.members_article.url)] == "旧地址上已有页面"
    assert any("查询" in why for why in skipped.values())


def test_no_redirect_below_a_page_the_public_may_not_read(tree):
    below = Redirect.normalise_path(tree.members_article.url + "old-annex")
    Redirect.objects.create(old_path=below, redirect_page=tree.articles[1])
    published, skipped = plan_of()
    assert below not in published and skipped[below] == "旧地址位于非公开页面之下"


def test_redirects_to_public_pages_and_external_sites_are_published(tree):
    Redirect.objects.create(old_path="/old/article", redirect_page=tree.articles[0])
    Redirect.objects.create(old_path="/old/partner", redirect_link="https://www.12371.cn/", is_permanent=False)
    plan = static_redirects()
    by_path = {r.old_path: r for r in plan.redirects}
    assert by_path["/old/article"].location == tree.articles[0].url
    assert by_path["/old/article"].urls == ("/old/article", "/old/article/")
    assert by_path["/old/partner"].location == "https://www.12371.cn/" and not by_path["/old/partner"].permanent


def test_moving_a_page_leaves_a_published_redirect_from_its_old_address(tree):
    article = tree.articles[0]
    old_url = article.url
    article.move(tree.notices, pos="last-child")
    article.refresh_from_db()
    published, _skipped = plan_of()
    assert published.get(Redirect.normalise_path(old_url)) == article.url


# -- on the static site ---------------------------------------------------------------------------------
def _paths(target) -> set[str]:
    """What the static site holds now (the folder itself, not only the manifest)."""
    return {p for p in target.list_paths() if not p.startswith("_shuyuan/")}


def test_a_redirect_is_published_withdrawn_with_its_page_and_removed_with_itself(site, folder_target):
    from deploy.service import publish

    publish(full=True, target=folder_target)
    article = site.articles[0]
    closed = Redirect.objects.create(old_path="/old/members-only", redirect_page=site.members_article)
    redirect = Redirect.objects.create(old_path="/old/news-item", redirect_page=article)
    result = publish(target=folder_target)  # incremental: the change feed carries the new redirects
    assert "old/news-item/index.html" in {e.path for e in result.diff.changed} | {e.path for e in result.diff.added}
    body = folder_target.read("old/news-item/index.html").decode()
    assert f'url={article.url}"' in body and f'href="{article.url}"' in body and "noindex" in body
    assert not any(p.startswith("old/members-only") for p in _paths(folder_target))  # never a restricted page's address
    article.unpublish()
    publish(target=folder_target)
    assert "old/news-item/index.html" not in _paths(folder_target)  # no redirect to a page that is gone
    article.save_revision().publish()
    publish(target=folder_target)
    assert "old/news-item/index.html" in _paths(folder_target)
    redirect.delete()
    closed.delete()
    publish(target=folder_target)
    assert not any(p.startswith("old/") for p in _paths(folder_target))
