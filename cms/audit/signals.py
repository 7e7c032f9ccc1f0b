"""Receivers that write the audit log (connected in ``AuditConfig.ready``).

One receiver per event; each says what happened in one ``record`` call. Publish, unpublish,
workflow and edit actions are not recorded here: Wagtail's own log entries hold them and the audit
view reads them beside these events.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group

from .log import record

# Set while an admin view records a group's permission change as one diff, so the per-row
# signals below do not record the same change again.
_group_change_recorded_by_view = ContextVar("audit_group_change_by_view", default=False)

_USER_FIELDS = ("password", "is_active", "is_superuser", "is_staff")


@contextmanager
def group_change_recorded_by_view():
    token = _group_change_recorded_by_view.set(True)
    try:
        yield
    finally:
        _group_change_recorded_by_view.reset(token)


# --- logins -----------------------------------------------------------------------------------


def on_logged_in(sender, request, user, **kwargs):
    from .tasks import ensure_prune_schedule

    record("auth.login", request=request, user=user)
    ensure_prune_schedule()  # a cheap read once the daily prune chain is running


def on_login_failed(sender, credentials, request=None, **kwargs):
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")[:150]
    account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    record("auth.login_failed", request=request, user=account, username=username)


def on_logged_out(sender, request, user, **kwargs):
    record("auth.logout", request=request, user=user)


def on_locked_out(sender, request, username, ip_address, **kwargs):
    User = get_user_model()
    account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    record("auth.lockout", request=request, user=account, username=username or "", detail={"ip": ip_address})


# --- accounts ---------------------------------------------------------------------------------


def remember_user_state(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    if update_fields is not None and not set(_USER_FIELDS) & set(update_fields):
        instance._audit_before = None
        return
    instance._audit_before = sender._default_manager.filter(pk=instance.pk).values(*_USER_FIELDS).first()


def on_user_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        record(
            "user.created",
            user=instance,
            detail={"is_superuser": instance.is_superuser, "is_active": instance.is_active},
            obj=instance,
        )
        return
    before = getattr(instance, "_audit_before", None)
    instance._audit_before = None
    if not before:
        return
    if before["password"] != instance.password:
        record("auth.password_changed", user=instance, obj=instance)
    if before["is_active"] != instance.is_active:
        record("user.activated" if instance.is_active else "user.deactivated", user=instance, obj=instance)
    for flag in ("is_superuser", "is_staff"):
        if before[flag] != getattr(instance, flag):
            record(
                "perm.superuser_changed" if flag == "is_superuser" else "perm.staff_changed",
                user=instance,
                detail={flag: getattr(instance, flag)},
                obj=instance,
            )


def on_user_deleted(sender, instance, **kwargs):
    # The account row is going: keep its name, not a reference to it.
    record("user.deleted", user=AnonymousUser(), username=instance.get_username(), obj=instance)


def on_user_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action == "pre_clear":  # the only moment the cleared rows are still known
        pk_set = set((instance.user_set if reverse else instance.groups).values_list("pk", flat=True))
        if not pk_set:
            return
    verb = "added" if action == "post_add" else "removed"
    User = get_user_model()
    if not reverse:
        names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        record("perm.group_changed", user=instance, detail={verb: names}, obj=instance)
    else:
        for user in User._default_manager.filter(pk__in=pk_set):
            record("perm.group_changed", user=user, detail={verb: [instance.name]}, obj=user)


def on_user_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove") or reverse:
        return
    from django.contrib.auth.models import Permission

    names = sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(pk__in=pk_set).select_related("content_type")
    )
    verb = "added" if action == "post_add" else "removed"
    record("perm.user_permissions_changed", user=instance, detail={verb: names}, obj=instance)


# --- groups and their permissions -------------------------------------------------------------


def on_group_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        record("perm.group_created", user=None, detail={"group": instance.name}, obj=instance)


def on_group_deleted(sender, instance, **kwargs):
    record("perm.group_deleted", user=None, detail={"group": instance.name}, obj=instance)


def on_group_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove") or reverse or _group_change_recorded_by_view.get():
        return
    from django.contrib.auth.models import Permission

    names = sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(pk__in=pk_set).select_related("content_type")
    )
    verb = "added" if action == "post_add" else "removed"
    record(
        "perm.group_permissions_changed",
        user=None,
        detail={"group": instance.name, verb: names},
        obj=instance,
    )


def on_tree_permission_changed(sender, instance, raw=False, **kwargs):
    if raw or _group_change_recorded_by_view.get():
        return
    if "created" in kwargs:  # post_save
        verb = "added" if kwargs["created"] else "changed"
    else:  # post_delete
        verb = "removed"
    where = (
        f"page:{instance.page_id}" if hasattr(instance, "page_id") else f"collection:{instance.collection_id}"
    )
    group = Group.objects.filter(pk=instance.group_id).first()
    if group is None:  # the group itself is being deleted: that is recorded once, as perm.group_deleted
        return
    record(
        "perm.group_permissions_changed",
        user=None,
        detail={"group": group.name, verb: [f"{where}:{instance.permission.codename}"]},
        obj=group,
    )


def record_group_change(group, before, after, *, created=False):
    """Called by the group admin views with the group's powers before and after the save."""
    added, removed = after.minus(before), before.minus(after)
    if not (added or removed) and not created:
        return
    record(
        "perm.group_permissions_changed",
        user=None,
        detail={"group": group.name, "added": added.describe(), "removed": removed.describe()},
        obj=group,
    )


# --- 2FA --------------------------------------------------------------------------------------


def remember_device_state(sender, instance, raw=False, **kwargs):
    instance._audit_confirmed = (
        sender._default_manager.filter(pk=instance.pk).values_list("confirmed", flat=True).first()
        if instance.pk and not raw
        else None
    )


def on_device_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    kind = "totp" if sender.__name__ == "TOTPDevice" else "static"
    detail = {"device": kind, "name": instance.name}
    before = getattr(instance, "_audit_confirmed", None)
    if created:
        record(
            "auth.2fa_enabled" if instance.confirmed else "auth.2fa_added", user=instance.user, detail=detail
        )
    elif before is not None and before != instance.confirmed:
        record(
            "auth.2fa_enabled" if instance.confirmed else "auth.2fa_disabled",
            user=instance.user,
            detail=detail,
        )


def on_device_deleted(sender, instance, **kwargs):
    kind = "totp" if sender.__name__ == "TOTPDevice" else "static"
    # The device may be going with its account: keep the account's name, not a reference to it.
    username = (
        get_user_model()
        ._default_manager.filter(pk=instance.user_id)
        .values_list("username", flat=True)
        .first()
    )
    record(
        "auth.2fa_removed",
        user=AnonymousUser(),
        username=username or "",
        detail={"device": kind, "name": instance.name},
    )


# --- settings ---------------------------------------------------------------------------------


def setting_models():
    """Wagtail settings models (BaseSiteSetting / BaseGenericSetting subclasses), Site and Locale."""
    from django.apps import apps
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.models import Locale, Site

    return [
        model
        for model in apps.get_models()
        if issubclass(model, BaseSiteSetting | BaseGenericSetting | Site | Locale)
    ]


def on_setting_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    record(
        "settings.created" if created else "settings.changed",
        user=None,
        detail={"model": sender._meta.label},
        obj=instance,
    )


def on_setting_deleted(sender, instance, **kwargs):
    record("settings.deleted", user=None, detail={"model": sender._meta.label}, obj=instance)


def connect():
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from wagtail.models import GroupCollectionPermission, GroupPagePermission

    User = get_user_model()
    uid = "audit.{}".format
    user_logged_in.connect(on_logged_in, dispatch_uid=uid("login"))
    user_login_failed.connect(on_login_failed, dispatch_uid=uid("login_failed"))
    user_logged_out.connect(on_logged_out, dispatch_uid=uid("logout"))
    user_locked_out.connect(on_locked_out, dispatch_uid=uid("lockout"))

    pre_save.connect(remember_user_state, sender=User, dispatch_uid=uid("user_pre"))
    post_save.connect(on_user_saved, sender=User, dispatch_uid=uid("user_post"))
    post_delete.connect(on_user_deleted, sender=User, dispatch_uid=uid("user_del"))
    m2m_changed.connect(on_user_groups_changed, sender=User.groups.through, dispatch_uid=uid("groups"))
    m2m_changed.connect(
        on_user_permissions_changed, sender=User.user_permissions.through, dispatch_uid=uid("user_perms")
    )

    post_save.connect(on_group_saved, sender=Group, dispatch_uid=uid("group_post"))
    post_delete.connect(on_group_deleted, sender=Group, dispatch_uid=uid("group_del"))
    m2m_changed.connect(
        on_group_permissions_changed, sender=Group.permissions.through, dispatch_uid=uid("gperms")
    )
    for model in (GroupPagePermission, GroupCollectionPermission):
        post_save.connect(
            on_tree_permission_changed, sender=model, dispatch_uid=uid(f"{model.__name__}_post")
        )
        post_delete.connect(
            on_tree_permission_changed, sender=model, dispatch_uid=uid(f"{model.__name__}_del")
        )

    for model in (TOTPDevice, StaticDevice):
        pre_save.connect(remember_device_state, sender=model, dispatch_uid=uid(f"{model.__name__}_pre"))
        post_save.connect(on_device_saved, sender=model, dispatch_uid=uid(f"{model.__name__}_post"))
        post_delete.connect(on_device_deleted, sender=model, dispatch_uid=uid(f"{model.__name__}_del"))

    # Per model, not for every sender: a post_delete receiver for all models would stop Django's fast
    # (query-only) deletes everywhere.
    for model in setting_models():
        post_save.connect(on_setting_saved, sender=model, dispatch_uid=uid(f"{model._meta.label}_post"))
        post_delete.connect(on_setting_deleted, sender=model, dispatch_uid=uid(f"{model._meta.label}_del"))
