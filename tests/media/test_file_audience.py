"""Files follow the pages that use them: a file attached to a members or internal page stays hidden.

One published tree serves every case: files used only by a members page, only by an internal page, by
both a public and an internal page, an explicitly public file on an internal page, an unused file, and a
file only a draft uses. Every way a file leaves the CMS is tried (API listing, detail, download,
``/documents/<id>/<name>``, renditions, the static folder) as anonymous, member and admin-user callers.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.images.utils import generate_signature

from cms import visibility
from cms.models import StudyMaterialAttachment
from media.audience import FileAudience, effective_audience, effective_audiences, public_files, visible_files
from media.models import ShuyuanDocument, ShuyuanImage
from tests.api.helpers import ApiClient, make_user, token_for
from tests.factories import build_site

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
SPEC = "fill-80x60"


def make_document(title: str, audience=FileAudience.FOLLOW) -> ShuyuanDocument:
    document = ShuyuanDocument(title=title, audience=audience)
    document.file.save(f"{title}.txt", ContentFile(f"{title} text".encode()), save=False)
    document.save()
    return document


def make_image(title: str, audience=FileAudience.FOLLOW) -> ShuyuanImage:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    image = ShuyuanImage(title=title, audience=audience, file=ImageFile(buffer, name=f"{title}.png"))
    image.save()
    return image


class ForgetRenditions:
    """Wagtail caches renditions by image id, and SQLite reuses the ids of rolled-back rows: without
    this, a later test's image would be served this test's cached rendition."""

    def tearDown(self):
        from media.models import ShuyuanRendition

        ShuyuanRendition.cache_backend.clear()
        super().tearDown()


def rendition_url(image) -> str:
    return reverse("wagtailimages_serve", args=(generate_signature(image.pk, SPEC), image.pk, SPEC))


def body_with(document=None, image=None) -> list:
    body = [("paragraph", "<p>正文</p>")]
    if document is not None:
        body.append(("attachment", {"document": document, "title": "附件"}))
    if image is not None:
        body.append(("image", {"image": image, "caption": "图"}))
    return body


def status(client, url) -> int:
    response = client.get(url, HTTP_HOST="localhost")
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def build_files_tree():
    """The site of ``build_site`` with files attached to pages of every audience."""
    tree = build_site(n_articles=1)
    files = {
        "public": make_document("pubdoc"),  # follows: used by a public material
        "members": make_document("memdoc"),  # follows: used by the members material only
        "internal": make_document("intdoc"),  # follows: used by the internal article only
        "shared": make_document("shareddoc"),  # follows: used by a public and an internal page
        "explicit": make_document("explicitdoc", FileAudience.PUBLIC),  # on the internal page only
        "unused": make_document("unuseddoc"),
        "explicit_internal": make_document("explicitintdoc", FileAudience.INTERNAL),  # on a public page
        "draft": make_document("draftdoc"),  # only a draft of a public page uses it
        "img_public": make_image("pubimg"),
        "img_members": make_image("memimg"),
        "img_internal": make_image("intimg"),
        "img_explicit_members": make_image("explicitmemimg", FileAudience.MEMBERS),  # on a public page
    }
    public_material = tree.materials[0]
    public_material.body = body_with(image=files["img_public"])
    public_material.attachments.add(StudyMaterialAttachment(document=files["public"]))
    public_material.attachments.add(StudyMaterialAttachment(document=files["explicit_internal"]))
    public_material.save_revision().publish()
    tree.articles[0].body = body_with(files["shared"], files["img_explicit_members"])
    tree.articles[0].save_revision().publish()
    tree.members_material.body = body_with(image=files["img_members"])
    tree.members_material.attachments.add(StudyMaterialAttachment(document=files["members"]))
    tree.members_material.save_revision().publish()
    internal = tree.internal_article
    internal.body = [
        *body_with(files["internal"], files["img_internal"]),
        ("attachment", {"document": files["shared"], "title": "共用"}),
        ("attachment", {"document": files["explicit"], "title": "明确公开"}),
    ]
    internal.save_revision().publish()
    draft = tree.materials[1]
    draft.attachments.add(StudyMaterialAttachment(document=files["draft"]))
    draft.save_revision()  # saved, not published
    return tree, files


EXPECTED = {
    "public": "public", "members": "members", "internal": "internal", "shared": "public",
    "explicit": "public", "unused": "internal", "explicit_internal": "internal", "draft": "internal", "img_public": "public",
    "img_members": "members", "img_internal": "internal", "img_explicit_members": "members",
}


@override_settings(SHUYUAN_API=NO_LIMITS)
class FileAudienceTests(ForgetRenditions, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree, cls.files = build_files_tree()
        cls.member = make_user("file-member", visibility.members_group())
        cls.staff = make_user("file-staff", visibility.internal_group())
        cls.editor = make_user("file-editor")
        cls.editor.user_permissions.add(Permission.objects.get(codename="access_admin"))

    def ids(self, *names) -> set[int]:
        return {self.files[n].pk for n in names}

    def docs(self, audience_set) -> set[str]:
        return {n for n, a in EXPECTED.items() if not n.startswith("img") and a in audience_set}

    def images(self, audience_set) -> set[str]:
        return {n for n, a in EXPECTED.items() if n.startswith("img") and a in audience_set}

    # -- what must not happen ---------------------------------------------------------------------------
    def test_anonymous_cannot_list_fetch_or_download_files_of_restricted_pages(self):
        client = ApiClient()
        hidden_docs = self.docs({"members", "internal"})
        listed = client.get("/api/v2/documents/?limit=50").json()
        self.assertEqual({d["id"] for d in listed["items"]}, self.ids(*self.docs({"public"})))
        self.assertEqual({d["audience"] for d in listed["items"]}, {"public"})
        for name in hidden_docs:
            document = self.files[name]
            self.assertEqual(status(client, f"/api/v2/documents/{document.pk}/"), 404, name)
            self.assertEqual(status(client, f"/api/v2/documents/{document.pk}/download/"), 404, name)
            response = Client().get(document.url)
            self.assertEqual(response.status_code, 302, name)
            self.assertIn("/accounts/login/", response["Location"])
        images = client.get("/api/v2/images/?limit=50").json()
        self.assertEqual({i["id"] for i in images["items"]}, self.ids(*self.images({"public"})))
        for name in self.images({"members", "internal"}):
            image = self.files[name]
            self.assertEqual(status(client, f"/api/v2/images/{image.pk}/"), 404, name)
        # Renditions the CMS serves: members images send anonymous visitors to log in, internal ones
        # don't exist for them.
        members_rendition = Client().get(rendition_url(self.files["img_members"]))
        self.assertEqual(members_rendition.status_code, 302)
        self.assertIn("/accounts/login/", members_rendition["Location"])
        self.assertEqual(status(Client(), rendition_url(self.files["img_internal"])), 404)
        self.assertEqual(status(Client(), rendition_url(self.files["img_explicit_members"])), 302)

    def test_nothing_restricted_is_named_in_public_page_bodies(self):
        client = ApiClient()
        hidden = {self.files[n] for n in self.docs({"members", "internal"}) | self.images({"members", "internal"})}
        for page in (self.tree.materials[0], self.tree.articles[0], self.tree.materials[1]):
            body = client.get(f"/api/v2/pages/{page.pk}/", HTTP_HOST="localhost").content.decode()
            for file in hidden:
                self.assertNotIn(file.title, body, page.title)
                self.assertNotIn(f'"id":{file.pk},"meta":{{"type":"media.{type(file).__name__}"', body)
        material = client.get(f"/api/v2/pages/{self.tree.materials[0].pk}/").json()
        self.assertEqual([a["document"]["id"] for a in material["attachments"]], [self.files["public"].pk])

    def test_search_indexes_attachment_text_only_where_the_file_may_be_shown(self):
        from search.documents import page_to_document

        public = page_to_document(self.tree.materials[0])
        texts = " ".join(a.text for a in public.attachments)
        self.assertNotIn("explicitintdoc", texts)  # fixed internal: stays out of a public page's entry
        self.assertIn("pubdoc text", texts)  # follows the page
        members = page_to_document(self.tree.members_material)
        self.assertEqual(members.audience, "members")
        self.assertIn("memdoc text", " ".join(a.text for a in members.attachments))

    def test_a_member_reads_members_files_but_not_internal_ones(self):
        for user in (self.member, self.staff):  # internal staff read members-level content outside the CMS
            client = ApiClient(token_for(user))
            listed = client.get("/api/v2/documents/?limit=50").json()["items"]
            self.assertEqual({d["id"] for d in listed}, self.ids(*self.docs({"public", "members"})))
            audiences = {d["id"]: d["audience"] for d in listed}
            self.assertEqual(audiences[self.files["members"].pk], "members")
            self.assertEqual(audiences[self.files["shared"].pk], "public")
            self.assertEqual(status(client, f"/api/v2/documents/{self.files['internal'].pk}/download/"), 404)
            download = client.get(f"/api/v2/documents/{self.files['members'].pk}/download/")
            self.assertEqual(download.status_code, 200)
            self.assertIn("private", download["Cache-Control"])
            b"".join(download.streaming_content)  # consuming it closes it, as a WSGI server would
            images = client.get("/api/v2/images/?limit=50").json()["items"]
            self.assertEqual({i["id"] for i in images}, self.ids(*self.images({"public", "members"})))
        browser = Client()
        browser.force_login(self.member)
        self.assertEqual(status(browser, self.files["members"].url), 200)
        self.assertEqual(status(browser, self.files["internal"].url), 403)
        self.assertEqual(status(browser, self.files["unused"].url), 403)
        members_rendition = browser.get(rendition_url(self.files["img_members"]))
        self.assertEqual(members_rendition.status_code, 200)
        self.assertIn("private", members_rendition["Cache-Control"])
        self.assertNotIn("public", members_rendition["Cache-Control"])
        self.assertEqual(status(browser, rendition_url(self.files["img_internal"])), 404)

    def test_admin_users_still_see_every_file_in_the_cms(self):
        browser = Client()
        browser.force_login(self.editor)
        self.assertEqual(status(browser, self.files["internal"].url), 200)
        self.assertEqual(status(browser, self.files["draft"].url), 200)
        self.assertEqual(status(browser, rendition_url(self.files["img_internal"])), 200)

    # -- the rule -------------------------------------------------------------------------------------
    def test_effective_audiences(self):
        everything = list(self.files.values())
        found = effective_audiences(everything)
        self.assertEqual({n: found[(type(f), f.pk)].value for n, f in self.files.items()}, EXPECTED)
        self.assertEqual(effective_audience(self.files["shared"]), "public")
        self.assertEqual(
            set(public_files(ShuyuanDocument.objects.all()).values_list("pk", flat=True)),
            self.ids(*self.docs({"public"})),
        )
        # One query for the files whatever their number (the uses are a sub-query), after the visibility
        # rule's own.
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = []
        for queryset in (ShuyuanImage.objects.filter(pk=self.files["img_public"].pk), ShuyuanImage.objects.all()):
            with CaptureQueriesContext(connection) as ctx:
                list(visible_files(queryset, {"public", "members"}))
            counts.append(len(ctx.captured_queries))
            self.assertEqual(sum("media_shuyuanimage" in q["sql"] for q in ctx.captured_queries), 1)
        self.assertEqual(counts[0], counts[1])

    def test_restricting_or_unpublishing_the_page_hides_its_files(self):
        material = self.tree.materials[0]
        self.assertEqual(status(Client(), self.files["public"].url), 200)
        material.audience = "members"
        material.save_revision().publish()
        self.assertEqual(effective_audience(self.files["public"]), "members")
        self.assertEqual(status(Client(), self.files["public"].url), 302)
        material.unpublish()
        self.assertEqual(effective_audience(self.files["public"]), "internal")
        self.assertEqual(effective_audience(self.files["img_public"]), "internal")
        self.assertEqual(status(Client(), rendition_url(self.files["img_public"])), 404)

    def test_publishing_the_draft_makes_its_file_public(self):
        self.assertEqual(effective_audience(self.files["draft"]), "internal")
        self.tree.materials[1].get_latest_revision().publish()
        self.assertEqual(effective_audience(self.files["draft"]), "public")
        self.assertEqual(status(Client(), self.files["draft"].url), 200)

    def test_image_files_under_media_url_are_served_after_the_same_check(self):
        # the CMS's own pages link renditions under MEDIA_URL; their names are guessable
        internal = self.files["img_internal"]
        rendition = internal.get_rendition("width-100")
        for url in (internal.file.url, rendition.url):
            self.assertEqual(status(Client(), url), 404, url)
        public = self.files["img_public"]
        self.assertEqual(status(Client(), public.file.url), 200)
        self.assertEqual(status(Client(), public.get_rendition("width-100").url), 200)
        self.assertEqual(status(Client(), "/media/documents/anything.pdf"), 404)

    def test_a_file_is_public_as_soon_as_its_page_is_published_before_wagtails_index_job_runs(self):
        # Outside the tests Wagtail's reference-index job runs later in the worker, perhaps after the
        # publish that needs it; the publish itself must record what the page uses.
        from wagtail.signal_handlers import disable_reference_index_auto_update

        image = make_image("新封面")
        article = self.tree.articles[0]
        with disable_reference_index_auto_update():
            article.cover_image = image
            article.save_revision().publish()
        self.assertEqual(effective_audience(image), "public")
        self.assertEqual(status(Client(), rendition_url(image)), 200)


@override_settings(SHUYUAN_API=NO_LIMITS)
class StaticFolderTests(ForgetRenditions, TestCase):
    """What the publisher copies to the static site: public files only, and withdrawn ones go."""

    @classmethod
    def setUpTestData(cls):
        cls.tree, cls.files = build_files_tree()

    def published(self, folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "_shuyuan" not in p.parts}

    def file_paths(self, paths: set[str]) -> dict[str, set[str]]:
        """Published documents and renditions, by the file's key in ``self.files``."""
        from media.models import ShuyuanRendition

        by_path = {}
        for name, file in self.files.items():
            if isinstance(file, ShuyuanDocument):
                by_path[name] = {p for p in paths if p.startswith(f"documents/{file.pk}/")}
            else:
                names = set(ShuyuanRendition.objects.filter(image=file).values_list("file", flat=True))
                by_path[name] = {p for p in paths if p.startswith("media/") and p[len("media/"):] in names}
        return by_path

    def test_static_folder_holds_public_files_only_and_drops_withdrawn_ones(self):
        from deploy.service import publish
        from deploy.targets import get_target

        with tempfile.TemporaryDirectory() as tmp, self.settings(
            STORAGES={
                **self._storages(),
                "publish": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                            "OPTIONS": {"location": tmp, "base_url": "/"}},
            }
        ):
            folder = Path(tmp)
            publish(full=True, target=get_target())
            found = self.file_paths(self.published(folder))
            leaked = {n for n, paths in found.items() if paths and EXPECTED[n] != "public"}
            self.assertEqual(leaked, set())
            self.assertTrue(found["public"] and found["shared"] and found["img_public"], found)
            for path in found["public"]:
                self.assertEqual((folder / path).read_bytes(), b"pubdoc text")
            # The material goes members-only: the next (incremental) publish takes its files away.
            material = self.tree.materials[0]
            material.audience = "members"
            material.save_revision().publish()
            publish(target=get_target())
            after = self.file_paths(self.published(folder))
            self.assertEqual(after["public"] | after["img_public"], set())
            self.assertTrue(after["shared"])  # still used by a public article

    def _storages(self):
        from django.conf import settings

        return settings.STORAGES


class UploadTests(ForgetRenditions, TestCase):
    """The admin's multiple upload (the documents screen's default) saves files and their details."""

    @classmethod
    def setUpTestData(cls):
        from django.contrib.auth import get_user_model

        cls.user = get_user_model().objects.create_superuser("uploader", "", "pw")

    def setUp(self):
        self.client.force_login(self.user)

    def test_multiple_upload_then_update_saves_the_document(self):
        added = self.client.post(
            "/admin/documents/multiple/add/", {"files[]": SimpleUploadedFile("学习资料.txt", "三会一课".encode())}
        )
        self.assertEqual(added.status_code, 200)
        data = json.loads(added.content)
        self.assertTrue(data["success"], data)
        document = ShuyuanDocument.objects.get(pk=data["doc_id"])
        self.assertEqual(document.audience, FileAudience.FOLLOW)
        prefix = f"doc-{document.pk}"
        updated = self.client.post(
            f"/admin/documents/multiple/{document.pk}/",
            {f"{prefix}-title": "新标题", f"{prefix}-collection": document.collection_id,
             f"{prefix}-audience": "members", f"{prefix}-source": "", f"{prefix}-tags": ""},
        )
        self.assertEqual(updated.status_code, 200, updated.content[:300])
        self.assertTrue(json.loads(updated.content)["success"])
        document.refresh_from_db()
        self.assertEqual((document.title, document.audience), ("新标题", "members"))

    def test_multiple_upload_refuses_a_disguised_file_at_once_in_chinese(self):
        added = self.client.post(
            "/admin/documents/multiple/add/", {"files[]": SimpleUploadedFile("报告.pdf", b"MZ\x90\x00" + b"\x00" * 500)}
        )
        data = json.loads(added.content)
        self.assertFalse(data["success"])
        self.assertIn("不是 PDF 文件", data["error_message"])
        self.assertFalse(ShuyuanDocument.objects.exists())

    def test_multiple_image_upload_defaults_to_follow(self):
        buffer = io.BytesIO()
        PILImage.new("RGB", (32, 32), (1, 2, 3)).save(buffer, "PNG")
        added = self.client.post(
            "/admin/images/multiple/add/", {"files[]": SimpleUploadedFile("图.png", buffer.getvalue(), "image/png")}
        )
        data = json.loads(added.content)
        self.assertTrue(data["success"], data)
        self.assertEqual(ShuyuanImage.objects.get(pk=data["image_id"]).audience, FileAudience.FOLLOW)


class AdminAudienceTests(ForgetRenditions, TestCase):
    """The admin shows each file's effective audience and warns about files wider than their page."""

    @classmethod
    def setUpTestData(cls):
        from django.contrib.auth import get_user_model

        cls.tree, cls.files = build_files_tree()
        cls.user = get_user_model().objects.create_superuser("admin-audience", "", "pw")

    def setUp(self):
        self.client.force_login(self.user)

    def test_listings_and_edit_screens_show_the_effective_audience(self):
        listing = self.client.get("/admin/documents/").content.decode()
        self.assertIn("实际可见范围", listing)
        self.assertIn("仅会员（跟随所用页面）", listing)
        self.assertIn("内部（仅限系统内）（跟随所用页面）", listing)
        edit = self.client.get(f"/admin/documents/edit/{self.files['shared'].pk}/").content.decode()
        self.assertIn("公开（跟随所用页面）", edit)
        images = self.client.get("/admin/images/").content.decode()
        self.assertIn("实际可见范围", images)
        self.assertIn("仅会员（跟随所用页面）", images)
        image_edit = self.client.get(f"/admin/images/{self.files['img_explicit_members'].pk}/").content.decode()
        self.assertIn("实际可见范围", image_edit)

    def test_saving_a_page_with_an_explicitly_public_file_warns_the_editor(self):
        from django.contrib.messages import get_messages
        from django.contrib.messages.storage.fallback import FallbackStorage
        from django.test import RequestFactory
        from wagtail import hooks

        request = RequestFactory().post("/admin/pages/")
        request.session = {}
        request._messages = FallbackStorage(request)
        page = self.tree.internal_article
        for fn in hooks.get_hooks("after_edit_page"):
            fn(request, page)
        warnings = [str(m) for m in get_messages(request)]
        self.assertEqual(len([w for w in warnings if "explicitdoc" in w]), 1, warnings)
        self.assertIn("内部", warnings[0])
        self.assertNotIn("shareddoc", warnings[0])  # follows its pages: nothing to warn about
        # a public page using the same file: no warning
        request._messages = FallbackStorage(request)
        for fn in hooks.get_hooks("after_edit_page"):
            fn(request, self.tree.articles[0])
        self.assertFalse([str(m) for m in get_messages(request) if "文件" in str(m)])
