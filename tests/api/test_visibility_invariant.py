"""The invariant: nothing restricted leaves the API for a caller who may not read it.

Over seeded random trees (audiences, drafts, expiry and inheritance mixed), every endpoint is crawled
as anonymous, a non-member, a member and internal staff. Listings must hold exactly the expected ids
and counts, every other id must 404, and no response body may contain the marker of an audience the
caller can't read (members never see internal markers).
"""

from __future__ import annotations

import json

import pytest
from django.test import TestCase, override_settings

from cms.api.models import AppToken
from search import indexing
from search.documents import document_id

from .helpers import clients
from .trees import MARK, build_tree

SEEDS = [7, 2024]
TYPES = ["cms.ArticlePage", "cms.StudyMaterialPage", "cms.ExhibitionPage", "cms.RedExhibitionPage", "cms.ColumnPage"]
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def forbidden_markers(audiences) -> list[str]:
    return [MARK[a] for a in ("public", "members", "internal") if a not in audiences]


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None)
class VisibilityInvariantTests(TestCase):
    def crawl(self, client, audiences, tree):
        bodies = []

        def get(url, expect=200):
            response = client.get(url, HTTP_HOST="localhost")
            if response.streaming:
                content = b"".join(response.streaming_content)
                response.close()
            else:
                content = response.content
            self.assertEqual(response.status_code, expect, f"{url}: {content[:300]}")
            if response.streaming:
                return None
            bodies.append((url, content.decode()))
            return json.loads(response.content) if response["Content-Type"].startswith("application/json") else None

        visible = tree.visible(audiences)
        # Listings: exactly the visible pages, with the right count.
        listed, offset = [], 0
        while True:
            data = get(f"/api/v2/pages/?limit=50&offset={offset}&fields=*")
            self.assertEqual(data["meta"]["total_count"], len(visible))
            listed += [item["id"] for item in data["items"]]
            offset += 50
            if offset >= data["meta"]["total_count"]:
                break
        self.assertEqual(set(listed), visible)
        for page_type in TYPES:
            data = get(f"/api/v2/pages/?type={page_type}&fields=*&limit=50")
            expected = visible & tree.types.get(page_type.split(".")[1], set())
            self.assertEqual({item["id"] for item in data["items"]}, expected, page_type)
            self.assertEqual(data["meta"]["total_count"], len(expected))
        for column in tree.columns:
            status = 200 if column in visible else 400
            get(f"/api/v2/pages/?child_of={column}&fields=*", expect=status)
            get(f"/api/v2/pages/?column={column}", expect=status)
            get(f"/api/v2/pages/?descendant_of={column}", expect=status)
        get("/api/v2/pages/?search=zzmem&fields=*")
        get("/api/v2/pages/?search=zzint&fields=*")
        # Details: visible pages 200, all others 404; translations name exactly the visible ones.
        for pk in tree.pages:
            data = get(f"/api/v2/pages/{pk}/", expect=200 if pk in visible else 404)
            if pk in visible:
                expected = (tree.translations.get(pk, set()) & visible) - {pk}
                self.assertEqual({t["id"] for t in data["translations"]}, expected, f"translations of {pk}")
        for pk, group in tree.translations.items():
            if pk in visible:
                data = get(f"/api/v2/pages/?translation_of={pk}&fields=translations&limit=50")
                self.assertEqual({item["id"] for item in data["items"]}, (group & visible) - {pk})
        # Images used by visible pages only; documents by their own audience.
        images = get("/api/v2/images/?limit=50&fields=*")
        expected_images = {pk for pk, a in tree.images.items() if a in audiences}
        self.assertEqual({item["id"] for item in images["items"]}, expected_images)
        self.assertEqual(images["meta"]["total_count"], len(expected_images))
        for pk in tree.images:
            get(f"/api/v2/images/{pk}/", expect=200 if pk in expected_images else 404)
        documents = get("/api/v2/documents/?limit=50&fields=*")
        expected_documents = {pk for pk, a in tree.documents.items() if a in audiences}
        self.assertEqual({item["id"] for item in documents["items"]}, expected_documents)
        for pk in tree.documents:
            get(f"/api/v2/documents/{pk}/", expect=200 if pk in expected_documents else 404)
            get(f"/api/v2/documents/{pk}/download/", expect=200 if pk in expected_documents else 404)
        # Search (the tree is indexed): exactly the visible pages of each type, nothing else.
        for q, model in (("ArticlePage", "ArticlePage"), ("StudyMaterialPage", "StudyMaterialPage"), ("summary", None), ("doc", None)):
            data = get(f"/api/v2/search/?q={q}&page_size=50")
            if model is not None:
                expected = {document_id(pk) for pk in visible & tree.types.get(model, set())}
                self.assertEqual({r["id"] for r in data["results"]}, expected, q)
                self.assertEqual(data["total"], len(expected), q)
        # No marker of an unreadable audience anywhere, and no URL naming a hidden page or document.
        hidden_docs = {pk for pk, a in tree.documents.items() if a not in audiences}
        for url, body in bodies:
            for marker in forbidden_markers(audiences):
                self.assertNotIn(marker, body, f"{marker} leaked in {url}")
            for pk in hidden_docs:
                self.assertNotIn(f"/documents/{pk}/", body, f"hidden document {pk} named in {url}")
        return len(bodies)

    def test_invariant_over_generated_trees(self):
        users = clients()
        requests = 0
        for seed in SEEDS:
            tree = build_tree(seed)
            indexing.rebuild()
            for name, (client, audiences) in users.items():
                with self.subTest(seed=seed, client=name):
                    requests += self.crawl(client, audiences, tree)
        self.assertGreater(requests, 200)
        self.assertTrue(AppToken.objects.exists())


@pytest.mark.django_db
def test_trees_hold_every_audience():
    tree = build_tree(42)
    assert set(tree.pages.values()) == {"public", "members", "internal"}
    assert set(tree.documents.values()) >= {"public", "members"}
