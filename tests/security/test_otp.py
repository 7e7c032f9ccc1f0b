"""TOTP second factor with recovery codes, on the admin login, the members' login and the token
endpoint; required for administrators and reviewers."""

import re
from base64 import b32encode

from axes.models import AccessAttempt
from django.test import Client, TestCase, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.audit.models import AuditEvent

from .helpers import ADMIN_LOGIN, MEMBER_LOGIN, NO_LIMITS, TOKEN, logged_in, login, make_user

PATHS = (ADMIN_LOGIN, MEMBER_LOGIN, TOKEN)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def fresh(device: TOTPDevice) -> TOTPDevice:
    """Let the device accept the current code again (django-otp refuses a code twice and throttles
    after failures; each test login here would otherwise wait 30 seconds)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    return device


@override_settings(SHUYUAN_API=NO_LIMITS)
class LoginWithSecondFactorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("kate", staff=True, superuser=True)
        cls.device = TOTPDevice.objects.create(user=cls.user, name="app", confirmed=True)
        recovery = StaticDevice.objects.create(user=cls.user, name="恢复码", confirmed=True)
        StaticToken.objects.create(device=recovery, token="rescue01")

    def test_the_password_alone_is_not_enough(self):
        for path in PATHS:
            with self.subTest(path=path):
                response = login(Client(), path, "kate")
                self.assertFalse(logged_in(response, path))
                if path == TOKEN:
                    self.assertEqual((response.status_code, response.json()["code"]), (400, "otp_required"))
                else:
                    self.assertContains(response, "该账户已启用双重认证")

    def test_a_wrong_code_is_refused_and_counts_as_a_failure(self):
        for path in PATHS:
            with self.subTest(path=path):
                wrong = f"{(int(code_for(self.device)) + 1) % 1_000_000:06d}"
                response = login(Client(), path, "kate", otp=wrong, address="10.3.3.3")
                self.assertFalse(logged_in(response, path))
                if path == TOKEN:
                    self.assertEqual((response.status_code, response.json()["code"]), (401, "otp_invalid"))
                fresh(self.device)
        self.assertEqual(
            sum(AccessAttempt.objects.filter(username="kate").values_list("failures_since_start", flat=True)),
            3,
        )

    def test_five_wrong_codes_lock_the_account(self):
        for _ in range(5):
            login(Client(), MEMBER_LOGIN, "kate", otp="000000")
            fresh(self.device)
        response = login(Client(), ADMIN_LOGIN, "kate", otp=code_for(self.device), address="10.4.4.4")
        self.assertContains(response, "账户已锁定", status_code=429)

    def test_a_valid_code_logs_in_and_verifies_the_session(self):
        for path in PATHS:
            with self.subTest(path=path):
                client = Client()
                response = login(client, path, "kate", otp=code_for(fresh(self.device)))
                self.assertTrue(logged_in(response, path), getattr(response, "content", b"")[:300])
                if path != TOKEN:
                    self.assertEqual(client.session[DEVICE_ID_SESSION_KEY], self.device.persistent_id)
                    self.assertEqual(
                        client.get(
                            "/admin/" if path == ADMIN_LOGIN else "/zh-hans/study/search/"
                        ).status_code,
                        200,
                    )

    def test_a_recovery_code_works_once(self):
        response = login(Client(), ADMIN_LOGIN, "kate", otp="rescue01")
        self.assertTrue(logged_in(response, ADMIN_LOGIN))
        self.assertEqual(
            AuditEvent.objects.filter(action="security.2fa.recovery_used", username="kate").count(), 1
        )
        StaticDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
        again = login(Client(), TOKEN, "kate", otp="rescue01")
        self.assertEqual(again.status_code, 401)

    def test_a_session_not_verified_with_the_device_is_ended(self):
        client = Client()
        client.force_login(self.user)  # a password-only session, e.g. from before 2FA was set up
        response = client.get("/admin/")
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("_auth_user_id", client.session)


@override_settings(SHUYUAN_OTP_REQUIRED_GROUPS=["审核人员"], SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS=True)
class RequiredSecondFactorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = make_user("lily", "审核人员", staff=True)
        cls.editor = make_user("mike", "编辑人员", staff=True)

    def test_a_required_user_without_a_device_is_sent_to_setup_and_sets_it_up(self):
        client = Client()
        self.assertEqual(login(client, ADMIN_LOGIN, "lily").status_code, 302)
        for path in ("/admin/", "/admin/pages/", "/admin/users/"):
            response = client.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertEqual(response["Location"], "/admin/security/2fa/")
        page = client.get("/admin/security/2fa/")
        self.assertContains(page, "<svg")
        self.assertContains(page, "必须启用双重认证")
        secret = re.search(r'class="otp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
        device = TOTPDevice.objects.get(user=self.reviewer, confirmed=False)
        self.assertEqual(secret, b32encode(device.bin_key).decode())
        wrong = client.post("/admin/security/2fa/", {"action": "confirm", "code": "000000"})
        self.assertEqual(wrong.status_code, 400)
        self.assertEqual(client.get("/admin/").status_code, 302)
        done = client.post("/admin/security/2fa/", {"action": "confirm", "code": code_for(fresh(device))})
        codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
        self.assertEqual(len(set(codes)), 10)
        self.assertEqual(client.get("/admin/").status_code, 200)
        self.assertTrue(AuditEvent.objects.filter(action__contains="2fa_enabled", username="lily").exists())
        # the codes are not shown again
        self.assertEqual(re.findall(r"<li><code>", client.get("/admin/security/2fa/").content.decode()), [])

    def test_users_outside_the_required_groups_are_not_forced(self):
        client = Client()
        client.force_login(self.editor)
        self.assertEqual(client.get("/admin/").status_code, 200)
        self.assertContains(client.get("/admin/account/"), "/admin/security/2fa/")

    def test_turning_2fa_off_needs_a_current_code(self):
        device = TOTPDevice.objects.create(user=self.editor, name="app", confirmed=True)
        client = Client()
        login(client, ADMIN_LOGIN, "mike", otp=code_for(device))
        fresh(device)
        client.post("/admin/security/2fa/", {"action": "disable", "code": "000000"})
        self.assertTrue(TOTPDevice.objects.filter(user=self.editor).exists())
        fresh(device)
        client.post("/admin/security/2fa/", {"action": "disable", "code": code_for(device)})
        self.assertFalse(TOTPDevice.objects.filter(user=self.editor).exists())
        self.assertTrue(AuditEvent.objects.filter(action__contains="2fa_removed", username="mike").exists())
