"""三员分立: nobody grants powers they do not hold; the auditor reads and changes nothing else.

Negative tests first: what a system administrator, security administrator and auditor must NOT be
able to do, through Wagtail's forms and through crafted POSTs.
"""

from django.contrib.auth.models import Permission
from django.test import TestCase, override_settings
from django.urls import NoReverseMatch, reverse
from wagtail.models import GroupPagePermission, Page

from .base import RolesMixin, middleware_with_audit


def assert_refused(test, response, msg=None):
    """Wagtail answers a refused admin request with a redirect to the dashboard (or a 403)."""
    if response.status_code == 302:
        test.assertEqual(response.url, reverse("wagtailadmin_home"), msg)
    else:
        test.assertEqual(response.status_code, 403, msg)


def user_post(user, **changes):
    """What the user edit form would post for ``user`` unchanged, plus ``changes``."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(changes)
    return data


@override_settings(MIDDLEWARE=middleware_with_audit())
class SystemAdministratorTests(RolesMixin, TestCase):
    def setUp(self):
        self.client.force_login(self.sysadmin)

    def edit_url(self, user):
        return reverse("wagtailusers_users:edit", args=[user.pk])

    def test_cannot_make_anyone_a_superuser(self):
        page = self.client.get(self.edit_url(self.alice))
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("is_superuser", page.context["form"].fields)
        for target in (self.alice, self.sysadmin):
            self.client.post(self.edit_url(target), user_post(target, is_superuser="on"))
            self.assertFalse(self.reload(target).is_superuser, target)
        response = self.client.post(
            reverse("wagtailusers_users:add"),
            {
                **user_post(self.alice, username="mallory", groups=[]),
                "password1": "Zq8#kLm2vR!x",
                "password2": "Zq8#kLm2vR!x",
                "is_superuser": "on",
            },
        )
        from django.contrib.auth import get_user_model

        created = get_user_model().objects.filter(username="mallory").first()
        self.assertTrue(created is None or not created.is_superuser, response.status_code)

    def test_cannot_put_anyone_in_a_group_with_powers_they_lack(self):
        for group in (self.security_group, self.audit_group, self.editors):
            self.client.post(self.edit_url(self.alice), user_post(self.alice, groups=[group.pk]))
            self.assertFalse(self.reload(self.alice).groups.filter(pk=group.pk).exists(), group.name)
        offered = self.client.get(self.edit_url(self.alice)).context["form"].fields["groups"].queryset
        self.assertNotIn(self.security_group, offered)
        self.assertNotIn(self.audit_group, offered)
        self.assertNotIn(self.editors, offered)

    def test_cannot_change_own_groups(self):
        self.assertNotIn("groups", self.client.get(self.edit_url(self.sysadmin)).context["form"].fields)
        self.client.post(
            self.edit_url(self.sysadmin),
            user_post(
                self.sysadmin, groups=[self.system_group.pk, self.security_group.pk, self.audit_group.pk]
            ),
        )
        self.assertEqual(
            list(self.reload(self.sysadmin).groups.values_list("name", flat=True)), ["系统管理员"]
        )

    def test_bulk_assign_role_cannot_escalate(self):
        url = reverse("wagtail_bulk_action", args=(self.alice._meta.app_label, "user", "assign_role"))
        for target in (self.alice, self.sysadmin):
            response = self.client.post(f"{url}?id={target.pk}", {"role": self.audit_group.pk})
            self.assertIn(response.status_code, (200, 302, 403))
            self.assertFalse(response.get("Location", "").startswith("/zh-hans/"), "the bulk action URL resolves")
            self.assertFalse(self.reload(target).groups.filter(pk=self.audit_group.pk).exists())
        # a group within their powers, for someone else: allowed
        self.system_group.user_set.remove(self.sysadmin)  # (outside a request: the operator)
        self.sysadmin.groups.add(self.system_group)
        self.client.post(f"{url}?id={self.alice.pk}", {"role": self.plain_access.pk})
        self.assertTrue(self.reload(self.alice).groups.filter(pk=self.plain_access.pk).exists())

    def test_cannot_take_over_an_account_with_more_powers(self):
        old_password = self.reload(self.auditor).password
        self.client.post(
            self.edit_url(self.auditor),
            user_post(
                self.auditor, email="mine@example.org", password1="Zq8#kLm2vR!x", password2="Zq8#kLm2vR!x"
            ),
        )
        auditor = self.reload(self.auditor)
        self.assertEqual(auditor.password, old_password)
        self.assertEqual(auditor.email, "auditor@example.org")
        self.assertTrue(auditor.groups.filter(pk=self.audit_group.pk).exists())
        assert_refused(self, self.client.post(reverse("wagtailusers_users:delete", args=[self.auditor.pk])))
        self.assertTrue(type(self.auditor).objects.filter(pk=self.auditor.pk).exists())

    def test_manages_ordinary_accounts(self):
        response = self.client.post(
            self.edit_url(self.alice), user_post(self.alice, email="alice@new.example.org")
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.reload(self.alice).email, "alice@new.example.org")


@override_settings(MIDDLEWARE=middleware_with_audit())
class SecurityAdministratorTests(RolesMixin, TestCase):
    def setUp(self):
        self.client.force_login(self.secadmin)

    def test_cannot_give_a_group_powers_they_lack(self):
        url = reverse("wagtailusers_groups:edit", args=[self.plain_access.pk])
        add_user = Permission.objects.get(content_type__app_label="auth", codename="add_user")
        form = self.client.get(url).context["form"]
        self.assertNotIn(add_user, form.fields["permissions"].queryset)
        page_perms = {
            "page_permissions-TOTAL_FORMS": "1",
            "page_permissions-INITIAL_FORMS": "0",
            "page_permissions-MIN_NUM_FORMS": "0",
            "page_permissions-MAX_NUM_FORMS": "1000",
            "page_permissions-0-page": str(Page.get_first_root_node().pk),
            "page_permissions-0-permissions": ["publish_page"],
        }
        self.client.post(url, {"name": "后台访问", "permissions": [add_user.pk], **page_perms})
        self.assertFalse(self.plain_access.permissions.filter(pk=add_user.pk).exists())
        self.assertFalse(GroupPagePermission.objects.filter(group=self.plain_access).exists())

    def test_cannot_edit_account_data_or_own_roles(self):
        url = reverse("wagtailusers_users:edit", args=[self.alice.pk])
        fields = self.client.get(url).context["form"].fields
        self.assertEqual({name for name, field in fields.items() if not field.disabled}, {"groups"})
        self.client.post(url, user_post(self.alice, email="x@example.org", groups=[self.plain_access.pk]))
        alice = self.reload(self.alice)
        self.assertEqual(alice.email, "alice@example.org")
        self.assertEqual(list(alice.groups.all()), [self.plain_access])  # roles within their powers: yes
        own = reverse("wagtailusers_users:edit", args=[self.secadmin.pk])
        self.client.post(own, user_post(self.secadmin, groups=[self.security_group.pk, self.system_group.pk]))
        self.assertEqual(list(self.reload(self.secadmin).groups.all()), [self.security_group])

    def test_cannot_assign_the_other_administrator_roles(self):
        url = reverse("wagtailusers_users:edit", args=[self.alice.pk])
        for group in (self.system_group, self.audit_group):
            self.client.post(url, user_post(self.alice, groups=[group.pk]))
            self.assertFalse(self.reload(self.alice).groups.filter(pk=group.pk).exists(), group.name)

    def test_cannot_read_the_audit_log(self):
        assert_refused(self, self.client.get(reverse("audit_log")))
        assert_refused(self, self.client.get(reverse("audit_log_export")))


@override_settings(MIDDLEWARE=middleware_with_audit())
class AuditorTests(RolesMixin, TestCase):
    def setUp(self):
        self.client.force_login(self.auditor)

    def test_cannot_edit_users_or_groups(self):
        edit_user = reverse("wagtailusers_users:edit", args=[self.alice.pk])
        assert_refused(self, self.client.get(edit_user))
        self.client.post(
            edit_user, user_post(self.alice, email="x@example.org", groups=[self.audit_group.pk])
        )
        alice = self.reload(self.alice)
        self.assertEqual((alice.email, list(alice.groups.all())), ("alice@example.org", []))
        edit_group = reverse("wagtailusers_groups:edit", args=[self.editors.pk])
        self.client.post(edit_group, {"name": "改名"})
        self.editors.refresh_from_db()
        self.assertEqual(self.editors.name, "编辑")
        assert_refused(self, self.client.post(reverse("wagtailusers_groups:delete", args=[self.editors.pk])))
        self.assertTrue(type(self.editors).objects.filter(pk=self.editors.pk).exists())

    def test_audit_log_is_read_only(self):
        self.assertEqual(self.client.get(reverse("audit_log")).status_code, 200)
        self.assertEqual(self.client.post(reverse("audit_log")).status_code, 405)
        self.assertEqual(self.client.post(reverse("audit_log_export")).status_code, 405)
        # no admin view of any kind over the audit events or Wagtail's log entries
        from wagtail.admin.viewsets import viewsets
        from wagtail.models import ModelLogEntry, PageLogEntry

        from cms.audit.models import AuditEvent

        exposed = {getattr(v, "model", None) for v in viewsets.viewsets}
        self.assertFalse(exposed & {AuditEvent, PageLogEntry, ModelLogEntry})
        with self.assertRaises(NoReverseMatch):
            reverse("admin:index")  # Django's admin site is not routed

    def test_others_cannot_read_the_audit_log(self):
        for user in (self.editor, self.sysadmin, self.root):
            self.client.force_login(user)
            assert_refused(self, self.client.get(reverse("audit_log")), user.username)
        with override_settings(SHUYUAN_AUDIT_SUPERUSERS_MAY_READ=True):
            self.assertEqual(self.client.get(reverse("audit_log")).status_code, 200)
