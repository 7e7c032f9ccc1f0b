"""Wagtail's own document URLs (``/documents/<id>/<file>``) keep each document to its effective audience.

The check is ``media.wagtail_hooks.check_document_audience`` (the API once registered a duplicate of
it); these cases pin what both did, so that removing the duplicate changed nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client, TestCase

from cms import visibility
from media.models import ShuyuanDocument

from .helpers import make_user


class DocumentServeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.docs = {}
        for audience in ("public", "members", "internal"):
            document = ShuyuanDocument(title=f"{audience} doc", audience=audience)
            document.file.save(f"serve-{audience}.txt", ContentFile(b"text"), save=False)
            document.save()
            cls.docs[audience] = document
        cls.member = make_user("serve-member", visibility.members_group())
        cls.plain = make_user("serve-plain")
        cls.editor = make_user("serve-editor")
        cls.editor.user_permissions.add(Permission.objects.get(codename="access_admin"))

    def status(self, user, audience) -> int:
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(self.docs[audience].url)
        if response.streaming:
            b"".join(response.streaming_content)
        return response.status_code

    def test_public_documents_are_served_to_anyone(self):
        for user in (None, self.plain, self.member, self.editor):
            self.assertEqual(self.status(user, "public"), 200)

    def test_members_documents_need_a_member_or_an_admin_user(self):
        anonymous = Client().get(self.docs["members"].url)
        self.assertEqual(anonymous.status_code, 302)
        self.assertIn("/accounts/login/", anonymous["Location"])
        self.assertEqual(self.status(self.plain, "members"), 403)
        self.assertEqual(self.status(self.member, "members"), 200)
        self.assertEqual(self.status(self.editor, "members"), 200)

    def test_a_document_no_page_uses_follows_nobody_out_of_the_cms(self):
        """The new default (跟随所用页面): unused, it is internal, whatever the old default suggested."""
        document = ShuyuanDocument(title="unused doc")
        document.file.save("serve-unused.txt", ContentFile(b"text"), save=False)
        document.save()
        self.assertEqual(document.audience, "follow")
        self.docs["follow"] = document
        self.assertEqual(Client().get(document.url).status_code, 302)
        self.assertEqual(self.status(self.member, "follow"), 403)
        self.assertEqual(self.status(self.editor, "follow"), 200)

    def test_internal_documents_need_an_admin_user(self):
        self.assertEqual(Client().get(self.docs["internal"].url).status_code, 302)
        self.assertEqual(self.status(self.plain, "internal"), 403)
        self.assertEqual(self.status(self.member, "internal"), 403)
        self.assertEqual(self.status(self.editor, "internal"), 200)
