"""Page models own their search document: each says whether search indexes it, under which kind and
label, and what its document holds; the API and both search pages take the kinds from them.

A new page type that says nothing fails here instead of being silently unsearchable, and a new
searchable type needs no change to the API's kind filter, its schema or the search pages.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings
from django.urls import reverse
from wagtail.models import Page, get_page_models

from cms import visibility
from search import documents, indexing
from search.documents import (
    all_kinds,
    declaration_errors,
    indexed_models,
    kinds,
    page_to_document,
    project_page_models,
)
from tests.factories import RedExhibitionPageFactory, build_site, publish

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}

#: The kind codes the API has always had (filters, facets and links people keep depend on them).
API_KINDS = {"article", "material", "exhibition", "red_exhibition"}


def test_every_page_model_says_whether_search_indexes_it():
    ours = [m for m in get_page_models() if m is not Page]
    assert ours, "no page models found"
    assert set(ours) == set(project_page_models())
    for model in ours:
        assert "search_kind" in vars(model), (
            f"{model._meta.label} must set search_kind in its own class body: a kind code, or None "
            "when it is not searchable (see cms.models.search)"
        )
    assert declaration_errors() == []


def test_the_kinds_are_the_models_kinds_in_display_order_with_their_labels():
    assert kinds() == [
        ("article", "栏目文章"),
        ("material", "学习资料"),
        ("exhibition", "线上展览"),
        ("red_exhibition", "红色云图"),
    ]
    assert {code for code, _label in kinds()} == API_KINDS
    for model in indexed_models():
        label = model.search_label or model._meta.verbose_name  # verbose_name unless the model says otherwise
        assert (model.search_kind, str(label)) in kinds()


def fake_model(label: str, **attrs):
    return type(
        label.split(".")[1],
        (),
        {
            "_meta": SimpleNamespace(label=label, verbose_name="某类"),
            **attrs,
            "search_kind_label": classmethod(lambda cls: cls._meta.verbose_name),
        },
    )


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({}, "does not say whether search indexes it"),
        ({"search_kind": "Article Page"}, "is not a kind code"),
        ({"search_kind": "article"}, "both declare search_kind 'article'"),
    ],
)
def test_a_page_type_that_says_nothing_or_clashes_is_reported(monkeypatch, declared, expected):
    real = project_page_models()
    monkeypatch.setattr(
        documents, "project_page_models", lambda: [*real, fake_model("cms.NewPage", **declared)]
    )
    errors = declaration_errors()
    assert len(errors) == 1 and "cms.NewPage" in errors[0] and expected in errors[0], errors


def test_a_page_type_excluded_on_purpose_is_not_indexed(monkeypatch):
    real = project_page_models()
    monkeypatch.setattr(
        documents, "project_page_models", lambda: [*real, fake_model("cms.NewPage", search_kind=None)]
    )
    assert declaration_errors() == []
    assert "NewPage" not in {m.__name__ for m in indexed_models()}


def search_kind_enums(schema: dict) -> list[list[str]]:
    """Every enum of kind codes in the search endpoint's parameters and results."""
    found: list[list[str]] = []

    def walk(node, under_kind=False):
        if isinstance(node, dict):
            if under_kind and "enum" in node:
                found.append([v for v in node["enum"] if v])
            for key, value in node.items():
                walk(value, under_kind or key == "kind" or node.get("name") == "kind")
        elif isinstance(node, list):
            for item in node:
                walk(item, under_kind)

    def refs(node):  # the component schemas a node refers to
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    search = schema["paths"]["/api/v2/search/"]
    walk(search)
    todo, seen = list(refs(search)), set()
    while todo:  # only the components of the search endpoint (another endpoint's ``kind`` is its own)
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            walk(schema["components"]["schemas"][name])
            todo.extend(refs(schema["components"]["schemas"][name]))
    return found


def test_the_api_schema_lists_every_kind():
    from cms.api.openapi import build_schema

    enums = search_kind_enums(build_schema())
    assert len(enums) >= 2, "the search endpoint's kind parameter and result field should both list the kinds"
    for enum in enums:
        assert sorted(enum) == sorted(code for code, _label in all_kinds())  # the pages' kinds and 文件


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=(1000, 60))
class KindsReachEveryOutputTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()
        for page in [cls.tree.exhibition, *cls.tree.red_sites]:
            publish(page)  # a publication date, so browsing by date lists every kind
        cls.member = get_user_model().objects.create_user("kinds-member", password="pw")
        cls.member.groups.add(visibility.members_group())

    def setUp(self):
        indexing.rebuild()

    def test_the_api_filters_by_every_kind(self):
        for code, _label in kinds():
            response = self.client.get("/api/v2/search/", {"kind": code})
            self.assertEqual(response.status_code, 200, response.content[:300])
            results = response.json()["results"]
            self.assertTrue(results, f"nothing of kind {code} in the test site")
            self.assertEqual({hit["kind"] for hit in results}, {code})

    def test_the_members_search_page_names_every_kind(self):
        self.client.force_login(self.member)
        url = reverse("search:study", kwargs={"lang": "zh-hans"})
        response = self.client.get(url, {"date_from": "2000-01-01"})  # browse everything: a facet per kind
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        for code, label in kinds():
            self.assertRegex(html, rf"kind={code}\">{re.escape(label)}</a>")

    def test_the_public_search_page_hands_every_kind_to_its_script(self):
        response = self.client.get(f"{self.tree.library.url}search/")
        self.assertEqual(response.status_code, 200)
        attribute = re.search(r'data-kinds="([^"]*)"', response.content.decode())
        self.assertIsNotNone(attribute)
        from html import unescape

        self.assertEqual(json.loads(unescape(attribute.group(1))), [list(kind) for kind in all_kinds()])

    def test_each_kind_builds_its_document_from_its_model(self):
        material = self.tree.materials[0]
        doc = page_to_document(material)
        self.assertEqual(
            (doc.kind, doc.title, doc.doc_number, doc.issuing_body),
            ("material", material.title, material.doc_number, "书苑示范党委"),
        )
        self.assertEqual(
            (doc.material_type, doc.topics, doc.date),
            (material.material_type.name, [t.name for t in material.topics.all()], material.issue_date),
        )
        self.assertEqual(page_to_document(self.tree.members_material).audience, "members")

        article = page_to_document(self.tree.articles[0])
        self.assertEqual(
            (article.kind, article.column, article.date), ("article", "新闻动态", self.tree.articles[0].date)
        )
        self.assertEqual(page_to_document(self.tree.internal_article).column, "通知公告")

        exhibition = self.tree.exhibition
        exhibition.curator = "书苑策展办"
        publish(exhibition)
        doc = page_to_document(exhibition)
        self.assertEqual(doc.kind, "exhibition")
        self.assertTrue(doc.body.startswith("书苑策展办\n") and "建党" in doc.body, doc.body)

        site = publish(
            RedExhibitionPageFactory(
                parent=self.tree.red,
                province="jiangxi",
                city="瑞金",
                description="中央苏区旧址。",
                category=self.tree.red_sites[0].category,
            )
        )
        doc = page_to_document(site)
        self.assertEqual(
            (doc.kind, doc.province, doc.category, doc.body),
            ("red_exhibition", "江西省", site.category.name, "瑞金\n中央苏区旧址。"),
        )
        self.assertIsInstance(doc.date, dt.date)

        self.assertIsNone(page_to_document(self.tree.library))  # a landing page: not searchable
        self.tree.articles[1].unpublish()
        self.assertIsNone(page_to_document(self.tree.articles[1]))


def test_labels_follow_the_language():
    from django.utils import translation

    with translation.override("zh-hant"):
        assert dict(kinds())["article"] == "欄目文章"
    with translation.override("en"):
        assert dict(kinds())["material"] == "Study material"
