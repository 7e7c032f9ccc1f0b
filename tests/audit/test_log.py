"""The audit log records who did what, from where; the auditor reads and exports it; it is kept
SHUYUAN_AUDIT_RETENTION_DAYS (at least 180) and pruned after."""

import csv
import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import RequestFactory, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page, PageLogEntry

from cms.audit.checks import check_retention
from cms.audit.context import _current
from cms.audit.models import AuditEvent
from cms.audit.retention import prune
from cms.audit.roles import EscalationRefused

from .base import RolesMixin, middleware_with_audit

BROWSER = "Mozilla/5.0 (审计测试浏览器)"
PASSWORD = "Zq8#kLm2vR!x"


@override_settings(MIDDLEWARE=middleware_with_audit())
class RecordingTests(RolesMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.alice.set_password(PASSWORD)
        cls.alice.save()
        cls.alice.groups.add(cls.plain_access)  # may use the admin login
        AuditEvent.objects.all().delete()

    def events(self, action):
        return list(AuditEvent.objects.filter(action=action))

    def test_logins_failures_logouts_and_changes_are_recorded_then_exported(self):
        client = self.client
        meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": BROWSER}

        # a wrong password, then the right one, then logging out
        client.post(reverse("wagtailadmin_login"), {"username": "alice", "password": "wrong"}, **meta)
        client.post(reverse("wagtailadmin_login"), {"username": "alice", "password": PASSWORD}, **meta)
        client.post(reverse("wagtailadmin_logout"), **meta)
        for action in ("auth.login_failed", "auth.login", "auth.logout"):
            [event] = self.events(action)
            self.assertEqual(
                (event.username, event.address, event.user_agent), ("alice", "203.0.113.7", BROWSER)
            )
        self.assertEqual(self.events("auth.login")[0].user, self.alice)
        self.assertNotIn("wrong", str(AuditEvent.objects.values_list("detail", flat=True)))

        # the security administrator gives alice a role; the system administrator sets her password
        other = {"REMOTE_ADDR": "198.51.100.9", "HTTP_USER_AGENT": "管理员浏览器"}
        client.force_login(self.secadmin)
        client.post(
            reverse("wagtailusers_users:edit", args=[self.alice.pk]),
            {"groups": [self.plain_access.pk, self.alice.groups.first().pk]},
            **other,
        )
        self.alice.groups.remove(self.plain_access)  # no request: recorded without an address
        client.post(
            reverse("wagtailusers_users:edit", args=[self.alice.pk]),
            {"groups": [self.plain_access.pk]},
            **other,
        )
        [change] = [e for e in self.events("perm.group_changed") if e.address]
        self.assertEqual((change.username, change.detail["actor"]), ("alice", "secadmin"))
        self.assertEqual(change.detail["added"], ["后台访问"])
        self.assertEqual((change.address, change.user_agent), ("198.51.100.9", "管理员浏览器"))

        client.force_login(self.sysadmin)
        client.post(
            reverse("wagtailusers_users:edit", args=[self.alice.pk]),
            {
                "username": "alice",
                "email": "alice@example.org",
                "first_name": "名",
                "last_name": "姓",
                "is_active": "on",
                "groups": [self.plain_access.pk],
                "password1": "Yx7$mNq4tW!p",
                "password2": "Yx7$mNq4tW!p",
            },
            **other,
        )
        [changed] = self.events("auth.password_changed")
        self.assertEqual(
            (changed.username, changed.detail["actor"], changed.address),
            ("alice", "sysadmin", "198.51.100.9"),
        )
        self.assertNotIn("Yx7$mNq4tW!p", str(AuditEvent.objects.values_list("detail", flat=True)))

        # the auditor exports the list as CSV (Excel-readable UTF-8); the export is itself recorded
        client.force_login(self.auditor)
        listing = client.get(reverse("audit_log"), {"account": "alice"})
        self.assertContains(listing, "登录失败")
        response = client.get(reverse("audit_log_export"), {"account": "alice"}, **other)
        body = b"".join(response.streaming_content).decode("utf-8")
        self.assertTrue(body.startswith("\ufeff"))
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        actions = [row[2] for row in rows[1:]]
        for action in (
            "auth.login",
            "auth.login_failed",
            "auth.logout",
            "auth.password_changed",
            "perm.group_changed",
        ):
            self.assertIn(action, actions)
        self.assertTrue(all(row[3] == "alice" for row in rows[1:]))
        self.assertIn("203.0.113.7", body)
        [export] = self.events("audit.export")
        self.assertEqual((export.username, export.detail["filters"]), ("auditor", {"account": "alice"}))

    def test_filters_and_wagtails_own_log_entries(self):
        page = Page.get_first_root_node()
        PageLogEntry.objects.log_action(page, "wagtail.publish", user=self.editor)
        AuditEvent.objects.create(action="auth.login", username="editor")
        self.client.force_login(self.auditor)
        rows = self.client.get(reverse("audit_log")).context["page"].object_list
        self.assertEqual({r.action for r in rows}, {"wagtail.publish", "auth.login"})
        rows = (
            self.client.get(reverse("audit_log"), {"action": "wagtail.publish"}).context["page"].object_list
        )
        self.assertEqual([(r.action, r.username) for r in rows], [("wagtail.publish", "editor")])
        today = timezone.localdate()
        rows = self.client.get(reverse("audit_log"), {"end": str(today - timedelta(days=1))}).context["page"]
        self.assertEqual(len(rows.object_list), 0)

    def test_address_is_read_like_the_api_reads_it(self):
        from cms.audit.log import client_address

        forged = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
        self.assertEqual(client_address(forged), "10.0.0.2")  # no proxies: the header is ignored
        with override_settings(REST_FRAMEWORK={"NUM_PROXIES": 1}):
            self.assertEqual(client_address(forged), "5.6.7.8")

    def test_model_guard_refuses_what_a_form_would(self):
        """A change that bypasses the forms (here: code running in the system administrator's request)."""
        request = RequestFactory().get("/")
        request.user = self.sysadmin
        token = _current.set(request)
        try:
            alice = self.reload(self.alice)
            alice.is_superuser = True
            view_auditlog = Permission.objects.filter(codename="view_auditlog")
            attempts = [
                lambda: self.alice.groups.add(self.audit_group),
                lambda: self.sysadmin.groups.add(self.plain_access),  # even a harmless group: not one's own
                alice.save,
                lambda: self.plain_access.permissions.add(*view_auditlog),
            ]
            for attempt in attempts:
                with self.assertRaises(EscalationRefused), transaction.atomic():
                    attempt()
        finally:
            _current.reset(token)
        self.assertFalse(self.reload(self.alice).is_superuser)
        self.assertFalse(self.alice.groups.filter(pk=self.audit_group.pk).exists())


class RetentionTests(TestCase):
    def test_pruning_keeps_everything_younger_than_the_retention(self):
        now = timezone.now()
        page = Page.get_first_root_node()
        for days, name in ((181, "old"), (179, "recent")):
            AuditEvent.objects.create(action="auth.login", username=name)
            AuditEvent.objects.filter(username=name).update(time=now - timedelta(days=days))
            entry = PageLogEntry.objects.log_action(page, "wagtail.publish")
            PageLogEntry.objects.filter(pk=entry.pk).update(timestamp=now - timedelta(days=days), label=name)
        ModelLogEntry.objects.filter(timestamp__lt=now).update(timestamp=now - timedelta(days=200))

        prune(now=now)
        self.assertEqual(list(AuditEvent.objects.values_list("username", flat=True)), ["recent"])
        self.assertEqual(list(PageLogEntry.objects.values_list("label", flat=True)), ["recent"])
        self.assertFalse(ModelLogEntry.objects.filter(timestamp__lt=now - timedelta(days=180)).exists())

        with override_settings(SHUYUAN_AUDIT_RETENTION_DAYS=365):
            AuditEvent.objects.filter(username="recent").update(time=now - timedelta(days=300))
            prune(now=now)
            self.assertTrue(AuditEvent.objects.filter(username="recent").exists())

    def test_a_retention_under_180_days_fails_the_check(self):
        self.assertEqual(check_retention(), [])
        for value in (179, 0, "x"):
            with override_settings(SHUYUAN_AUDIT_RETENTION_DAYS=value):
                [error] = check_retention()
                self.assertEqual(error.id, "audit.E001")
                self.assertIn("SHUYUAN_AUDIT_RETENTION_DAYS", error.msg)

    def test_two_factor_and_setting_changes_are_recorded(self):
        from django_otp.plugins.otp_totp.models import TOTPDevice
        from wagtail.models import Site

        user = get_user_model().objects.create_user("bob", "", "pw")
        device = TOTPDevice.objects.create(user=user, name="手机", confirmed=False)
        device.drift = 1
        device.save()  # every code check saves the device: not a 2FA change
        device.confirmed = True
        device.save()
        device.delete()
        self.assertEqual(
            list(
                AuditEvent.objects.filter(action__startswith="auth.2fa")
                .order_by("pk")
                .values_list("action", "username")
            ),
            [("auth.2fa_added", "bob"), ("auth.2fa_enabled", "bob"), ("auth.2fa_removed", "bob")],
        )
        site = Site.objects.get(is_default_site=True)
        site.site_name = "书苑"
        site.save()
        self.assertTrue(AuditEvent.objects.filter(action="settings.changed", object_id=str(site.pk)).exists())

    def test_audit_events_cannot_be_edited(self):
        event = AuditEvent.objects.create(action="auth.login", username="x")
        event.username = "y"
        with self.assertRaises(PermissionError):
            event.save()
