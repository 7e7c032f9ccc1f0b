"""Lockout after 5 failures in a row, per account and per address, on the admin, the members' login
and the token endpoint; it expires, and only security administrators lift it."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.test import Client, TestCase, override_settings

from cms.audit.models import AuditEvent

from .helpers import ADMIN_LOGIN, MEMBER_LOGIN, NO_LIMITS, TOKEN, logged_in, login, make_user

PATHS = (ADMIN_LOGIN, MEMBER_LOGIN, TOKEN)


@override_settings(SHUYUAN_API=NO_LIMITS)
class LockoutTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("alice", staff=True, superuser=True)
        cls.other = make_user("bob", staff=True, superuser=True)

    def fail_five_times(self, path, username="alice", addresses=None):
        client = Client()
        addresses = addresses or ["10.0.0.1"] * 5
        for address in addresses:
            response = login(client, path, username, "wrong-password", address=address)
            self.assertFalse(logged_in(response, path))
        return response

    def test_five_failures_lock_the_account_even_with_the_right_password(self):
        for path in PATHS:
            with self.subTest(path=path):
                # five failures from five addresses: the account itself is locked
                fifth = self.fail_five_times(path, addresses=[f"10.0.1.{i}" for i in range(5)])
                self.assertEqual(fifth.status_code, 429)
                response = login(Client(), path, "alice", address="10.0.2.1")
                self.assertFalse(logged_in(response, path))
                self.assertEqual(response.status_code, 429)
                self.assertGreaterEqual(int(response["Retry-After"]), 9 * 60)
                if path == TOKEN:
                    self.assertEqual(response["Content-Type"], "application/json")
                    self.assertEqual(response.json()["code"], "locked")
                    self.assertIn("请 10 分钟后再试", response.json()["message"])
                else:
                    self.assertContains(
                        response, "登录失败次数过多，账户已锁定，请 10 分钟后再试", status_code=429
                    )
                    self.assertNotIn("_auth_user_id", Client().session)
                # another account from another address is not affected
                self.assertTrue(logged_in(login(Client(), path, "bob", address="10.0.3.1"), path))
                AccessAttempt.objects.all().delete()

    def test_four_failures_then_success_resets_the_count(self):
        client = Client()
        for _ in range(4):
            login(client, MEMBER_LOGIN, "alice", "wrong-password")
        self.assertTrue(logged_in(login(Client(), MEMBER_LOGIN, "alice"), MEMBER_LOGIN))
        for _ in range(4):
            login(client, MEMBER_LOGIN, "alice", "wrong-password")
        self.assertTrue(logged_in(login(Client(), MEMBER_LOGIN, "alice"), MEMBER_LOGIN))

    def test_one_address_is_locked_across_accounts(self):
        client = Client()
        for i in range(5):
            login(client, ADMIN_LOGIN, f"nobody{i}", "wrong-password", address="10.9.9.9")
        # the right password of a real account from that address: refused
        response = login(client, ADMIN_LOGIN, "bob", address="10.9.9.9")
        self.assertContains(response, "账户已锁定", status_code=429)
        # bob from elsewhere logs in
        self.assertTrue(logged_in(login(Client(), ADMIN_LOGIN, "bob", address="10.9.9.10"), ADMIN_LOGIN))

    def test_own_successful_logins_do_not_clear_failures_against_another_account(self):
        # Guess alice's password three times, log in as bob (the attacker's own account) from the same
        # address, move on to another address: the failures against alice still add up.
        client = Client()
        for address in ("10.5.5.5", "10.5.5.6"):
            for _ in range(3):
                login(client, TOKEN, "alice", "wrong-password", address=address)
            self.assertTrue(logged_in(login(client, TOKEN, "bob", address=address), TOKEN))
        self.assertEqual(login(client, TOKEN, "alice", address="10.5.5.7").status_code, 429)

    def test_forged_forwarded_for_does_not_escape_the_address_lock(self):
        client = Client()
        for i in range(5):
            login(client, TOKEN, f"nobody{i}", "x", address="10.7.7.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        response = client.post(
            TOKEN,
            data='{"username": "bob", "password": "Zhiyuan#2025x"}',
            content_type="application/json",
            REMOTE_ADDR="10.7.7.7",
            HTTP_X_FORWARDED_FOR="203.0.113.99",
        )
        self.assertEqual(response.status_code, 429)

    @override_settings(REST_FRAMEWORK={"NUM_PROXIES": 1})
    def test_behind_a_proxy_the_forwarded_address_is_the_client(self):
        client = Client()
        for i in range(5):
            login(
                client,
                MEMBER_LOGIN,
                f"nobody{i}",
                "x",
                address="10.0.0.254",
                HTTP_X_FORWARDED_FOR="198.51.100.1",
            )
        locked = login(client, MEMBER_LOGIN, "bob", address="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.1")
        self.assertEqual(locked.status_code, 429)
        other = login(client, MEMBER_LOGIN, "bob", address="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.2")
        self.assertTrue(logged_in(other, MEMBER_LOGIN))

    def test_the_lock_expires_after_the_cool_off(self):
        self.fail_five_times(MEMBER_LOGIN)
        self.assertEqual(login(Client(), MEMBER_LOGIN, "alice").status_code, 429)
        AccessAttempt.objects.update(
            attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=9)
        )
        self.assertEqual(login(Client(), MEMBER_LOGIN, "alice").status_code, 429)
        AccessAttempt.objects.update(
            attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=2)
        )
        self.assertTrue(logged_in(login(Client(), MEMBER_LOGIN, "alice"), MEMBER_LOGIN))

    @override_settings(SHUYUAN_LOGIN_FAILURE_LIMIT=3, SHUYUAN_LOGIN_LOCKOUT_MINUTES=30)
    def test_settings_change_the_numbers(self):
        client = Client()
        for _ in range(3):
            response = login(client, MEMBER_LOGIN, "alice", "wrong-password")
        self.assertContains(response, "请 30 分钟后再试", status_code=429)


@override_settings(SHUYUAN_API=NO_LIMITS)
class UnlockTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.victim = make_user("victim")
        cls.security_admin = make_user("sec", "安全管理员", staff=True)
        cls.editor = make_user("editor", "编辑人员", staff=True)

    def setUp(self):
        client = Client()
        for _ in range(5):
            login(client, MEMBER_LOGIN, "victim", "wrong-password", address="10.1.1.1")

    def test_an_editor_cannot_see_or_lift_locks(self):
        client = Client()
        client.force_login(self.editor)
        self.assertNotEqual(client.get("/admin/security/lockouts/").status_code, 200)
        client.post("/admin/security/lockouts/", {"kind": "username", "value": "victim"})
        self.assertEqual(login(Client(), MEMBER_LOGIN, "victim", address="10.1.1.2").status_code, 429)
        self.assertNotContains(client.get("/admin/"), "/admin/security/lockouts/")
        self.assertFalse(AuditEvent.objects.filter(action="security.unlock").exists())

    def test_a_security_administrator_sees_and_lifts_the_lock(self):
        client = Client()
        client.force_login(self.security_admin)
        self.assertContains(client.get("/admin/"), "/admin/security/lockouts/")
        page = client.get("/admin/security/lockouts/")
        self.assertContains(page, "victim")
        self.assertContains(page, "10.1.1.1")
        response = client.post(
            "/admin/security/lockouts/", {"kind": "username", "value": "victim"}, follow=True
        )
        self.assertContains(response, "已解除账户 victim 的登录锁定")
        self.assertTrue(logged_in(login(Client(), MEMBER_LOGIN, "victim", address="10.1.1.2"), MEMBER_LOGIN))
        event = AuditEvent.objects.get(action="security.unlock")
        self.assertEqual(event.detail["value"], "victim")
        self.assertEqual(event.username, "sec")
