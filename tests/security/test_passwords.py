"""Password policy: 8+ characters of 3 of 4 classes, none of the last 5, optional expiry; also when an
administrator sets a password in the Wagtail user forms; generated passwords pass it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import translation

from cms.audit.models import AuditEvent
from cms.security.models import PasswordHistory
from cms.security.passwords import generate_password

from .helpers import PASSWORD, make_user

WEAK = ["98765432109876", "shuyuan2025", "Ab1!", "abcdefghij", "password", "SHUYUANSHUYUAN"]


def refusals(password, user=None) -> list[str]:
    try:
        with translation.override("zh-hans"):
            validate_password(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.django_db
def test_weak_passwords_are_refused_with_chinese_messages():
    for password in WEAK:
        messages = refusals(password)
        assert messages, password
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages), messages
    assert "密码须包含大写字母、小写字母、数字、符号四类中的至少 3 类。" in refusals("shuyuan2025")
    # three classes and long enough: accepted
    for password in ("Shuyuan2025x", "shuyuan-2025", "SHUYUAN#2025", "Zhiyuan#2025x"):
        assert refusals(password) == [], password


@pytest.mark.django_db
def test_generated_passwords_pass_the_policy():
    user = get_user_model()(username="admin")
    for _ in range(20):
        assert refusals(generate_password(user), user) == []


class HistoryTests(TestCase):
    def test_the_last_five_passwords_cannot_come_back(self):
        user = make_user("carol")
        passwords = [f"Shuyuan#{n}x" for n in range(1, 6)]
        for password in passwords:
            user.set_password(password)
            user.save()
        for password in [PASSWORD, *passwords[1:]]:
            # PASSWORD was the first and is now the sixth back: usable again; the others are not
            expected = [] if password == PASSWORD else ["不能使用最近 5 次用过的密码。"]
            self.assertEqual(refusals(password, user), expected, password)
        self.assertEqual(PasswordHistory.objects.filter(user=user).count(), 5)
        self.assertFalse(PasswordHistory.objects.filter(password__in=passwords).exists())  # hashes only

    def test_django_password_change_runs_the_policy(self):
        user = make_user("dave")
        client = Client()
        client.force_login(user)
        for new in ("shuyuan2025", PASSWORD):
            response = client.post(
                "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
            )
            self.assertEqual(response.status_code, 200, new)
        user.refresh_from_db()
        self.assertTrue(user.check_password(PASSWORD))
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": "Dangjian@2026", "new_password2": "Dangjian@2026"},
        )
        self.assertEqual(response.status_code, 302)
        user.refresh_from_db()
        self.assertTrue(user.check_password("Dangjian@2026"))


class AdminSetsPasswordTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("root", superuser=True)
        cls.target = make_user("erin", staff=True)

    def setUp(self):
        self.client.force_login(self.admin)

    def test_wagtail_user_create_form_refuses_a_weak_password(self):
        data = {"username": "frank", "email": "f@example.org", "first_name": "F", "last_name": "G"}
        for weak in ("98765432109876", "shuyuan2025"):
            response = self.client.post(
                reverse("wagtailusers_users:add"), {**data, "password1": weak, "password2": weak}
            )
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "密码")
            self.assertFalse(get_user_model().objects.filter(username="frank").exists())

    def test_wagtail_user_edit_form_refuses_weak_and_reused_passwords(self):
        url = reverse("wagtailusers_users:edit", args=(self.target.pk,))
        data = {
            "username": "erin",
            "email": "e@example.org",
            "first_name": "E",
            "last_name": "R",
            "is_active": "on",
        }
        for bad, message in (("shuyuan2025", "四类中的至少 3 类"), (PASSWORD, "最近 5 次")):
            response = self.client.post(url, {**data, "password1": bad, "password2": bad})
            self.assertContains(response, message)
        self.target.refresh_from_db()
        self.assertTrue(self.target.check_password(PASSWORD))


@override_settings(SHUYUAN_PASSWORD_MAX_AGE_DAYS=90)
class ExpiryTests(TestCase):
    def test_an_expired_password_must_be_changed_before_anything_else(self):
        user = make_user("gina", staff=True, superuser=True)
        client = Client()
        client.force_login(user)
        self.assertEqual(client.get("/admin/").status_code, 200)
        type(user).objects.filter(pk=user.pk).update(date_joined=user.date_joined - timedelta(days=91))
        for path in ("/admin/", "/admin/pages/", "/zh-hans/study/search/"):
            response = client.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertIn("password", response["Location"])
        self.assertEqual(
            AuditEvent.objects.filter(action="security.password_expired", username="gina").count(), 1
        )
        change = client.get("/admin/security/password/?next=/admin/pages/")
        self.assertContains(change, "您的密码已过期")
        response = client.post(
            "/admin/security/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "Dangjian@2026",
                "new_password2": "Dangjian@2026",
                "next": "/admin/pages/",
            },
        )
        self.assertEqual(response["Location"], "/admin/pages/")
        self.assertEqual(client.get("/admin/").status_code, 200)


class EnsureAdminTests(TestCase):
    def test_a_weak_configured_password_is_refused(self):
        for weak in ("98765432109876", "shuyuan2025"):
            with self.subTest(weak=weak), pytest.MonkeyPatch.context() as env:
                env.setenv("SHUYUAN_ADMIN_PASSWORD", weak)
                with self.assertRaisesMessage(CommandError, "SHUYUAN_ADMIN_PASSWORD 不符合密码策略"):
                    call_command("ensure_admin")
        self.assertFalse(get_user_model().objects.filter(username="admin").exists())

    def test_the_generated_password_passes_and_works(self):
        with pytest.MonkeyPatch.context() as env:
            env.delenv("SHUYUAN_ADMIN_PASSWORD", raising=False)
            from io import StringIO

            out = StringIO()
            call_command("ensure_admin", stdout=out)
        password = out.getvalue().rsplit("密码：", 1)[1].strip()
        admin = get_user_model().objects.get(username="admin")
        self.assertTrue(admin.check_password(password))
        self.assertEqual(refusals(password, admin), ["不能使用最近 5 次用过的密码。"])
