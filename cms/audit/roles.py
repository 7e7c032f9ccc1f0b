"""三员分立: the three administrator roles, and the rule that nobody grants powers they lack.

A group's *powers* are its model permissions (``app.codename``), its page permissions (page, codename)
and its collection permissions (collection, codename). An account holds a power if one of its groups
or its own permissions give it, page and collection powers also from an ancestor. The rules, enforced
by the admin forms (``cms.audit.admin_views``) and again at model level (``cms.audit.guards``) where
a form can be bypassed:

- only a superuser sets or clears ``is_superuser``;
- nobody adds a user to, or removes a user from, a group whose powers they do not all hold;
- nobody gives a group a power they do not hold;
- nobody changes their own groups or permissions;
- nobody but a superuser edits the password or roles of an account that holds powers they lack.

Superusers are exempt. ``setup_roles`` (``ensure_roles``) creates the three groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

SYSTEM_ADMINS = "系统管理员"
SECURITY_ADMINS = "安全管理员"
AUDIT_ADMINS = "审计管理员"
ROLE_NAMES = (SYSTEM_ADMINS, SECURITY_ADMINS, AUDIT_ADMINS)

VIEW_AUDIT_LOG = "audit.view_auditlog"
ASSIGN_ROLES = "audit.assign_roles"
# The lockout permission the login helper (cms/security) defines; granted when it exists.
LOCKOUT_PERMISSIONS = ("security.manage_lockouts",)


class EscalationRefused(PermissionDenied):
    """An account tried to grant powers it does not hold (三员分立); a 403 where no form shows it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Powers:
    """What a group or an account may do, as comparable sets."""

    model: frozenset[str] = field(default_factory=frozenset)
    pages: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    collections: frozenset[tuple[int, str]] = field(default_factory=frozenset)

    def __bool__(self):
        return bool(self.model or self.pages or self.collections)

    def minus(self, other: Powers) -> Powers:
        return Powers(
            self.model - other.model, self.pages - other.pages, self.collections - other.collections
        )

    def describe(self) -> dict:
        return {
            "permissions": sorted(self.model),
            "page_permissions": sorted(f"{page}:{codename}" for page, codename in self.pages),
            "collection_permissions": sorted(f"{coll}:{codename}" for coll, codename in self.collections),
        }


def _perm_name(permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def group_powers(group: Group) -> Powers:
    """The powers a group confers (read from the database, so call it before and after a change)."""
    if group.pk is None:
        return Powers()
    from wagtail.models import GroupCollectionPermission, GroupPagePermission

    model = frozenset(_perm_name(p) for p in group.permissions.select_related("content_type"))
    pages = frozenset(
        GroupPagePermission.objects.filter(group=group).values_list("page_id", "permission__codename")
    )
    collections = frozenset(
        GroupCollectionPermission.objects.filter(group=group).values_list(
            "collection_id", "permission__codename"
        )
    )
    return Powers(model, pages, collections)


def _holds_tree_permission(user, model_name: str, object_id: int, codename: str) -> bool:
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    if model_name == "page":
        node = Page.objects.filter(pk=object_id).first()
        rows = GroupPagePermission.objects.filter(group__user=user, permission__codename=codename)
        key = "page__in"
    else:
        node = Collection.objects.filter(pk=object_id).first()
        rows = GroupCollectionPermission.objects.filter(group__user=user, permission__codename=codename)
        key = "collection__in"
    if node is None:
        return True  # the page or collection is gone: the row grants nothing
    return rows.filter(**{key: node.get_ancestors(inclusive=True)}).exists()


def lacking(actor, powers: Powers) -> Powers:
    """The part of ``powers`` the actor does not hold (empty for an active superuser)."""
    if actor.is_active and actor.is_superuser:
        return Powers()
    held = actor.get_all_permissions() if actor.is_active else set()
    return Powers(
        model=frozenset(p for p in powers.model if p not in held),
        pages=frozenset(
            p for p in powers.pages if not (actor.is_active and _holds_tree_permission(actor, "page", *p))
        ),
        collections=frozenset(
            c
            for c in powers.collections
            if not (actor.is_active and _holds_tree_permission(actor, "collection", *c))
        ),
    )


def can_grant_group(actor, group: Group) -> bool:
    """May the actor add someone to (or remove someone from) this group?"""
    return not lacking(actor, group_powers(group))


def assignable_groups(actor):
    """The groups whose membership the actor may change."""
    groups = Group.objects.order_by("name")
    if actor.is_active and actor.is_superuser:
        return groups
    return groups.filter(pk__in=[g.pk for g in groups if can_grant_group(actor, g)])


def user_powers(user) -> Powers:
    model = (
        set(_perm_name(p) for p in Permission.objects.filter(user=user).select_related("content_type"))
        if user.pk
        else set()
    )
    pages, collections = set(), set()
    for group in user.groups.all() if user.pk else []:
        powers = group_powers(group)
        model |= powers.model
        pages |= powers.pages
        collections |= powers.collections
    return Powers(frozenset(model), frozenset(pages), frozenset(collections))


def outranks(target, actor) -> bool:
    """Does ``target`` hold powers ``actor`` lacks (so the actor must not take over the account)?"""
    if actor.is_active and actor.is_superuser:
        return False
    if target.is_superuser:
        return True
    return bool(lacking(actor, user_powers(target)))


# --- the three groups -------------------------------------------------------------------------

ROLE_DESCRIPTIONS = {
    SYSTEM_ADMINS: _("系统管理员：管理用户账号和站点设置，不能分配角色、不能查看审计日志。"),
    SECURITY_ADMINS: _(
        "安全管理员：管理用户组、权限和角色分配、账号锁定、双因素认证策略，不能编辑账号资料、不能查看审计日志。"
    ),
    AUDIT_ADMINS: _("审计管理员：只能查看和导出审计日志。"),
}


def _settings_permissions() -> list[str]:
    """change_* of every Wagtail settings model (BaseSiteSetting / BaseGenericSetting)."""
    from wagtail.contrib.settings.registry import registry

    names = []
    for model in registry:
        opts = model._meta
        names.append(f"{opts.app_label}.change_{opts.model_name}")
    return names


def role_permissions() -> dict[str, list[str]]:
    """The model permissions of each role, as ``app.codename``."""
    return {
        SYSTEM_ADMINS: [
            "wagtailadmin.access_admin",
            "auth.add_user",
            "auth.change_user",
            "auth.delete_user",
            "wagtailcore.add_site",
            "wagtailcore.change_site",
            "wagtailcore.delete_site",
            "wagtailcore.add_locale",
            "wagtailcore.change_locale",
            "wagtailcore.delete_locale",
            *_settings_permissions(),
        ],
        SECURITY_ADMINS: [
            "wagtailadmin.access_admin",
            "auth.add_group",
            "auth.change_group",
            "auth.delete_group",
            ASSIGN_ROLES,
            *LOCKOUT_PERMISSIONS,
            # the 2FA policy lives in the login helper's settings model when it has one
            "security.change_securitysettings",
        ],
        AUDIT_ADMINS: ["wagtailadmin.access_admin", VIEW_AUDIT_LOG],
    }


def _lookup(names: list[str]) -> tuple[list[Permission], list[str]]:
    found, missing = [], []
    for name in names:
        app_label, codename = name.split(".", 1)
        perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        (found if perm else missing).append(perm or name)
    return found, missing


OPTIONAL_PERMISSIONS = {*LOCKOUT_PERMISSIONS, "security.change_securitysettings"}


@dataclass
class RoleReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped_permissions: list[str] = field(default_factory=list)


@transaction.atomic
def ensure_roles(*, members: dict[str, list[str]] | None = None) -> RoleReport:
    """Create or repair the three groups so each holds exactly its role's permissions; safe to re-run.

    ``members`` maps a role name to usernames to add to it (the first auditor, say): only a
    superuser's session or this command can do that, because nobody else holds all of a role's powers.
    """
    from .log import record

    report = RoleReport()
    for name, wanted in role_permissions().items():
        perms, missing = _lookup(wanted)
        required_missing = [m for m in missing if m not in OPTIONAL_PERMISSIONS]
        if required_missing:
            raise LookupError(f"权限不存在：{', '.join(required_missing)}（请先运行 migrate）")
        report.skipped_permissions += missing
        group, created = Group.objects.get_or_create(name=name)
        before = set(group.permissions.values_list("pk", flat=True))
        group.permissions.set(perms)
        if created:
            report.created.append(name)
        elif before != {p.pk for p in perms}:
            report.updated.append(name)
        if created or before != {p.pk for p in perms}:
            record("perm.role_setup", detail={"group": name, "permissions": sorted(wanted)}, obj=group)
    users = get_user_model()
    for name, usernames in (members or {}).items():
        group = Group.objects.get(name=name)
        for username in usernames:
            user = users._default_manager.get_by_natural_key(username)
            user.groups.add(group)
    return report
