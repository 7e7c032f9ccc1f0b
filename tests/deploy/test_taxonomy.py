"""Taxonomy edits (topics, material types, red-exhibition categories) reach the static site.

Study materials link to topics with a ``ParentalManyToManyField``, which Wagtail's ReferenceIndex does
not track; the listing pages (the study library, the red-exhibition index) offer one filter sub-route
per term. Saving, adding or deleting a term must rebuild exactly the pages that show it.
"""

from __future__ import annotations

from deploy import pending as feed
from deploy.service import publish
from tests.factories import CategoryFactory, TopicFactory

from .test_publish import assert_consistent, site_paths


def path_of(page, route: str = "") -> str:
    return page.url.lstrip("/") + route + "index.html"


def changed_paths(result) -> set[str]:
    if result.diff is None:  # nothing to rebuild
        return set()
    return {e.path for e in (*result.diff.added, *result.diff.changed)} | set(result.deletions)


def rebuilt_pages(result) -> set[int]:
    return set(result.plan.page_ids)


def test_renaming_a_topic_rebuilds_its_materials_and_the_library_routes(site, folder_target):
    from cms.models import Topic

    publish(full=True, target=folder_target)
    topic = Topic.objects.get()
    old_slug = topic.slug
    assert path_of(site.library, f"topic/{old_slug}/") in site_paths(folder_target)
    topic.name = "改名后的专题"
    topic.slug = "renamed-topic"
    topic.save()
    assert feed.exists()
    result = publish(target=folder_target)
    changed = changed_paths(result)
    for material in site.materials:
        assert path_of(material) in changed
        assert "改名后的专题".encode() in folder_target.read(path_of(material))
    assert path_of(site.library) in changed
    assert path_of(site.library, "topic/renamed-topic/") in site_paths(folder_target)
    assert path_of(site.library, f"topic/{old_slug}/") not in site_paths(folder_target)
    assert "改名后的专题".encode() in folder_target.read(path_of(site.library, "topic/renamed-topic/"))
    # nothing that doesn't show the topic
    assert not any(p.startswith(("zh-hans/news/", "zh-hans/notices/")) for p in changed)
    assert not any(p.startswith(site.red.url.lstrip("/")) for p in changed)
    assert site.news.pk not in rebuilt_pages(result) and site.red.pk not in rebuilt_pages(result)
    assert not {a.pk for a in site.articles} & rebuilt_pages(result)
    assert not feed.exists()
    assert_consistent(folder_target)


def test_a_new_topic_gets_its_route_and_a_deleted_one_goes(site, folder_target):
    from cms.models import Topic

    publish(full=True, target=folder_target)
    new = TopicFactory(name="新增专题", slug="new-topic")
    result = publish(target=folder_target)
    assert path_of(site.library, "topic/new-topic/") in site_paths(folder_target)
    assert "新增专题".encode() in folder_target.read(path_of(site.library))
    assert not any(path_of(m) in changed_paths(result) for m in site.materials)  # none uses it yet
    assert site.news.pk not in rebuilt_pages(result)

    used = Topic.objects.exclude(pk=new.pk).get()
    # a name no generated text contains (the factory's names are words the filler text also uses)
    used.name = "专题删除测试"
    used.save()
    publish(target=folder_target)
    used_route = path_of(site.library, f"topic/{used.slug}/")
    name = used.name.encode()
    assert name in folder_target.read(path_of(site.materials[0]))
    used.delete()
    result = publish(target=folder_target)
    assert used_route not in site_paths(folder_target)
    for material in site.materials:
        assert name not in folder_target.read(path_of(material)), material.url
    assert name not in folder_target.read(path_of(site.library))
    assert not any(p.startswith("zh-hans/news/") for p in changed_paths(result))
    assert_consistent(folder_target)


def test_material_type_edits_rebuild_its_materials_and_type_routes(site, folder_target):
    from cms.models import MaterialType

    publish(full=True, target=folder_target)
    mtype = MaterialType.objects.get()
    mtype.name = "新类型名"
    mtype.save()
    result = publish(target=folder_target)
    for material in site.materials:
        assert "新类型名".encode() in folder_target.read(path_of(material))
    assert "新类型名".encode() in folder_target.read(path_of(site.library, f"type/{mtype.slug}/"))
    assert not any(p.startswith("zh-hans/news/") for p in changed_paths(result))
    mtype.delete()
    publish(target=folder_target)
    assert path_of(site.library, f"type/{mtype.slug}/") not in site_paths(folder_target)
    for material in site.materials:
        assert "新类型名".encode() not in folder_target.read(path_of(material))
    assert_consistent(folder_target)


def test_red_exhibition_category_edits_rebuild_the_index_and_its_sites(site, folder_target):
    from cms.models import RedExhibitionCategory

    publish(full=True, target=folder_target)
    category = RedExhibitionCategory.objects.get()
    category.name = "新的场馆类别"
    category.save()
    result = publish(target=folder_target)
    changed = changed_paths(result)
    for red_site in site.red_sites:
        assert path_of(red_site) in changed
        assert "新的场馆类别".encode() in folder_target.read(path_of(red_site))
    assert "新的场馆类别".encode() in folder_target.read(path_of(site.red, f"category/{category.slug}/"))
    assert not any(p.startswith((site.library.url.lstrip("/"), "zh-hans/news/")) for p in changed)

    CategoryFactory(name="革命旧址群", slug="new-category")
    publish(target=folder_target)
    assert path_of(site.red, "category/new-category/") in site_paths(folder_target)

    category.delete()
    publish(target=folder_target)
    assert path_of(site.red, f"category/{category.slug}/") not in site_paths(folder_target)
    for red_site in site.red_sites:
        assert "新的场馆类别".encode() not in folder_target.read(path_of(red_site))
    assert_consistent(folder_target)


def test_a_translated_term_rebuilds_only_pages_of_its_language(site, folder_target):
    """A zh-hant translation of a topic is shown by zh-hant pages that point at the zh-hans topic; it
    doesn't change the zh-hans library or materials."""
    from wagtail.models import Locale

    from cms.models import Topic
    from deploy.affected import related_page_ids, term_listing_page_ids

    publish(full=True, target=folder_target)
    topic = Topic.objects.get()
    hant, _ = Locale.objects.get_or_create(language_code="zh-hant")
    translated = topic.copy_for_translation(hant)
    translated.name = "黨史學習"
    translated.save()
    assert related_page_ids(topic) == {m.pk for m in site.materials}
    assert related_page_ids(translated) == set()  # no zh-hant pages in this tree
    assert term_listing_page_ids(translated) == set()  # no zh-hant library either
    assert term_listing_page_ids(topic) == {site.library.pk}
    result = publish(target=folder_target)
    assert not changed_paths(result)
