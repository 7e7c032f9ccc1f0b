"""Sessions end after 30 idle minutes and 12 hours in all; a member lands somewhere real after logging
in; logging out is a POST."""

from unittest import mock

from django.conf import settings
from django.test import Client, TestCase

from cms.security import middleware

from .helpers import MEMBER_LOGIN, login, make_user

START = 1_800_000_000.0


class SessionLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user("hana", "编辑人员", staff=True)

    def get_at(self, client, seconds, path="/admin/"):
        with mock.patch.object(middleware, "now", return_value=START + seconds):
            return client.get(path)

    def logged_in_client(self):
        client = Client()
        client.force_login(self.editor)
        self.assertEqual(self.get_at(client, 0).status_code, 200)
        return client

    def test_idle_sessions_end(self):
        client = self.logged_in_client()
        self.assertEqual(client.session.get_expiry_age(), 30 * 60)  # the stored session expires too
        self.assertEqual(self.get_at(client, 29 * 60).status_code, 200)
        response = self.get_at(client, 60 * 60)
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])
        self.assertNotIn("_auth_user_id", client.session)
        # and it stays ended
        self.assertEqual(self.get_at(client, 60 * 60 + 1).status_code, 302)

    def test_active_sessions_last_until_the_absolute_limit(self):
        client = self.logged_in_client()
        for minute in range(20, 12 * 60, 20):  # a request every 20 minutes
            self.assertEqual(self.get_at(client, minute * 60).status_code, 200, minute)
        response = self.get_at(client, 12 * 3600 + 60)
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("_auth_user_id", client.session)


class MemberLoginTests(TestCase):
    def test_login_lands_on_a_real_page_and_cycles_the_session(self):
        make_user("ivan")
        client = Client()
        client.get(MEMBER_LOGIN)
        before = client.cookies.get(settings.SESSION_COOKIE_NAME)
        response = login(client, MEMBER_LOGIN, "ivan")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(client.get(response["Location"]).status_code, 200)
        self.assertNotEqual(before and before.value, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def test_logout_is_a_post(self):
        user = make_user("jack")
        client = Client()
        client.force_login(user)
        self.assertEqual(client.get("/accounts/logout/").status_code, 405)
        self.assertIn("_auth_user_id", client.session)
        response = client.post("/accounts/logout/")
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("_auth_user_id", client.session)
