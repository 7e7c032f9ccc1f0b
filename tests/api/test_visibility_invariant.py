"""The invariant: nothing restricted leaves the API for a caller who may not read it.

Over seeded random trees (audiences, drafts, expiry and inheritance mixed), every endpoint is crawled
as anonymous, a non-member, a member and internal staff. Listings must hold exactly the expected ids
and counts, every other id must 404, and no response body may contain the marker of an audience the
caller can't read (members never see internal markers).

Files join the rule: besides the tree's documents with explicit audiences and its images (which follow
the pages that use them), ``add_following_files`` attaches documents that follow their pages and adds
images with explicit audiences; each file's expected audience is worked out here from where it was
attached. Every public output of a file (API listings, details, downloads, ``/documents/``, renditions
the CMS serves, the static site's build) must hold only the files the caller may read.
"""

from __future__ import annotations

import io
import json
import random

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.images.utils import generate_signature

from cms import visibility
from cms.api.models import AppToken
from cms.api.params import locale_codes
from cms.models import StudyMaterialAttachment
from media.models import ShuyuanDocument, ShuyuanImage, ShuyuanRendition
from search import indexing
from search.documents import document_id

from .helpers import clients, make_user
from .trees import MARK, RANK, build_tree

SEEDS = [7, 2024]
TYPES = ["cms.ArticlePage", "cms.StudyMaterialPage", "cms.ExhibitionPage", "cms.RedExhibitionPage", "cms.ColumnPage"]
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def forbidden_markers(audiences) -> list[str]:
    return [MARK[a] for a in ("public", "members", "internal") if a not in audiences]


RENDITION = "fill-40x30"


def add_following_files(tree, seed: int) -> None:
    """Documents that follow their pages, attached to random study materials, and images whose audience
    an editor fixed; ``tree.documents`` / ``tree.images`` get their expected audiences."""
    rng = random.Random(seed * 31)
    materials = sorted(tree.types.get("StudyMaterialPage", set()))
    for i in range(5):
        users = rng.sample(materials, min(len(materials), rng.choice([0, 1, 2]))) if materials else []
        expected = min((tree.pages[pk] for pk in users), key=RANK.__getitem__, default="internal")
        document = ShuyuanDocument(title=f"follow {MARK[expected]} {seed}-{i}", audience="follow")
        document.file.save(f"follow-{MARK[expected]}-{seed}-{i}.txt", ContentFile(b"text"), save=False)
        document.save()
        for pk in users:
            StudyMaterialAttachment.objects.create(page_id=pk, document=document)
        tree.documents[document.pk] = expected
    for audience in ("public", "members", "internal"):
        buffer = io.BytesIO()
        PILImage.new("RGB", (40, 30), (rng.randrange(256), 0, 0)).save(buffer, "PNG")
        image = ShuyuanImage(
            title=f"fixed image {MARK[audience]} {seed}", audience=audience,
            file=ImageFile(buffer, name=f"fixed-{audience}-{seed}.png"),
        )
        image.save()
        tree.images[image.pk] = audience


def rendition_url(image_id: int) -> str:
    return reverse("wagtailimages_serve", args=(generate_signature(image_id, RENDITION), image_id, RENDITION))


def fetch(client, url):
    response = client.get(url, HTTP_HOST="localhost")
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None)
class VisibilityInvariantTests(TestCase):
    def crawl(self, client, audiences, tree):
        bodies = []

        def get(url, expect=200):
            response = client.get(url, HTTP_HOST="localhost")
            if response.streaming:
                content = b"".join(response.streaming_content)
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
            # A hidden column names nothing: its listings are empty, exactly as for a missing one.
            for url in (f"/api/v2/pages/?child_of={column}&fields=*", f"/api/v2/pages/?column={column}",
                        f"/api/v2/pages/?descendant_of={column}"):
                data = get(url)
                if column not in visible:
                    self.assertEqual(data, {"meta": {"total_count": 0}, "items": []}, url)
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
        # A search answers in one language (each page once), so every language is asked in turn.
        for q, model in (("ArticlePage", "ArticlePage"), ("StudyMaterialPage", "StudyMaterialPage"), ("summary", None), ("doc", None)):
            found, total = set(), 0
            for code in locale_codes():
                data = get(f"/api/v2/search/?q={q}&page_size=50&locale={code}")
                found |= {r["id"] for r in data["results"]}
                total += data["total"]
            if model is not None:
                expected = {document_id(pk) for pk in visible & tree.types.get(model, set())}
                self.assertEqual(found, expected, q)
                self.assertEqual(total, len(expected), q)
        # No marker of an unreadable audience anywhere, and no URL naming a hidden page or document.
        hidden_docs = {pk for pk, a in tree.documents.items() if a not in audiences}
        for url, body in bodies:
            for marker in forbidden_markers(audiences):
                self.assertNotIn(marker, body, f"{marker} leaked in {url}")
            for pk in hidden_docs:
                self.assertNotIn(f"/documents/{pk}/", body, f"hidden document {pk} named in {url}")
        return len(bodies)

    def check_cms_file_urls(self, tree, browsers):
        """``/documents/<id>/<name>`` and renditions, with a session (how browsers fetch them)."""
        for name, (client, audiences) in browsers.items():
            for pk, expected in tree.documents.items():
                document = ShuyuanDocument.objects.get(pk=pk)
                status = fetch(client, document.url).status_code
                self.assertEqual(status == 200, expected in audiences, f"{name}: document {pk} ({expected})")
            for pk, expected in tree.images.items():
                status = fetch(client, rendition_url(pk)).status_code
                self.assertEqual(status == 200, expected in audiences, f"{name}: rendition of {pk} ({expected})")
                if expected not in audiences:
                    self.assertIn(status, (302, 404))

    def check_static_build(self, tree):
        """The static site's build (what a publish uploads) holds public files only."""
        from deploy.affected import full_plan
        from deploy.render import Renderer
        from deploy.service import build

        out = build(full_plan(), Renderer())
        paths = set(out.objects)
        documents = {int(p.split("/")[1]) for p in paths if p.startswith("documents/")}
        names = {p[len("media/"):] for p in paths if p.startswith("media/")}
        renditions = dict(ShuyuanRendition.objects.filter(file__in=names).values_list("file", "image_id"))
        self.assertEqual(names - set(renditions), set(), "media files that are not renditions")
        self.assertEqual({pk for pk in documents if tree.documents.get(pk) != "public"}, set(), "documents")
        images = set(renditions.values())
        self.assertEqual({pk for pk in images if tree.images.get(pk) != "public"}, set(), "renditions")
        self.assertTrue(images, "no rendition published at all: the scan would prove nothing")

    def tearDown(self):
        ShuyuanRendition.cache_backend.clear()  # cached by image id, and SQLite reuses rolled-back ids
        super().tearDown()

    def test_invariant_over_generated_trees(self):
        users = clients()
        member, staff = make_user("session-member", visibility.members_group()), make_user("session-staff")
        browsers = {"anonymous": (Client(), {"public"}), "member": (Client(), {"public", "members"})}
        browsers["member"][0].force_login(member)
        browsers["signed-in non-member"] = (Client(), {"public"})
        browsers["signed-in non-member"][0].force_login(staff)
        requests = 0
        for seed in SEEDS:
            tree = build_tree(seed)
            add_following_files(tree, seed)
            indexing.rebuild()
            for name, (client, audiences) in users.items():
                with self.subTest(seed=seed, client=name):
                    requests += self.crawl(client, audiences, tree)
            with self.subTest(seed=seed, outputs="documents and renditions"):
                self.check_cms_file_urls(tree, browsers)
            with self.subTest(seed=seed, outputs="static build"):
                self.check_static_build(tree)
        self.assertGreater(requests, 200)
        self.assertTrue(AppToken.objects.exists())


@pytest.mark.django_db
def test_trees_hold_every_audience():
    tree = build_tree(42)
    assert set(tree.pages.values()) == {"public", "members", "internal"}
    assert set(tree.documents.values()) >= {"public", "members"}
    add_following_files(tree, 42)
    following = ShuyuanDocument.objects.filter(audience="follow").values_list("pk", flat=True)
    assert following and {tree.documents[pk] for pk in following} - {"public"}  # some stay restricted
