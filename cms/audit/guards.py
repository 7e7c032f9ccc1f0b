"""Model-level guards for 三员分立, for the paths a form does not cover.

The admin forms already hide and refuse what an account may not grant; these receivers refuse the
same changes when they arrive another way (a bulk action, a crafted request, other code running in a
request). They act only inside a request with a signed-in account: management commands and the
shell are run by the operator, who holds the server anyway.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from .context import current_request
from .roles import EscalationRefused, Powers, group_powers, lacking, outranks


def acting_user():
    """The signed-in account of the request being served, or None outside a request."""
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not user.is_authenticated:
        return None
    return user


def _unprivileged_actor():
    actor = acting_user()
    if actor is None or (actor.is_active and actor.is_superuser):
        return None
    return actor


def guard_user_save(sender, instance, raw=False, update_fields=None, **kwargs):
    actor = _unprivileged_actor()
    if actor is None or raw:
        return
    if update_fields is not None and not {"is_superuser", "password", "is_staff"} & set(update_fields):
        return
    old = (
        sender._default_manager.filter(pk=instance.pk).values("is_superuser", "is_staff", "password").first()
    )
    if old is None:
        if instance.is_superuser:
            raise EscalationRefused(_("只有超级管理员才能创建超级管理员。"))
        return
    if old["is_superuser"] != instance.is_superuser:
        raise EscalationRefused(_("只有超级管理员才能设置或取消超级管理员身份。"))
    if old["password"] != instance.password and instance.pk != actor.pk:
        target = sender._default_manager.get(pk=instance.pk)
        if outranks(target, actor):
            raise EscalationRefused(_("不能修改权限比自己更高的账号的密码。"))


def guard_user_groups(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    actor = _unprivileged_actor()
    if actor is None:
        return
    if not reverse:  # user.groups.add(groups)
        if instance.pk == actor.pk:
            raise EscalationRefused(_("不能修改自己的用户组。"))
        groups = Group.objects.filter(pk__in=pk_set) if action != "pre_clear" else instance.groups.all()
    else:  # group.user_set.add(users)
        users = set(pk_set) if action != "pre_clear" else set(instance.user_set.values_list("pk", flat=True))
        if actor.pk in users:
            raise EscalationRefused(_("不能修改自己的用户组。"))
        groups = [instance]
    _refuse_outside_units(actor, instance, groups, reverse, pk_set)
    for group in groups:
        if lacking(actor, group_powers(group)):
            raise EscalationRefused(
                _("不能分配或撤销自己不具备的权限所对应的用户组：%(group)s。") % {"group": group.name}
            )


def _refuse_outside_units(actor, instance, groups, reverse, pk_set):
    """分级维护: a unit administrator changes only its units' accounts and groups (``cms.orgs``)."""
    from cms.orgs.services import may_manage_user, unit_group_ids, units_managed_by, user_scope

    if user_scope(actor) is None:
        return
    targets = [instance] if not reverse else list(get_user_model()._default_manager.filter(pk__in=pk_set or ()))
    if any(not may_manage_user(actor, target) for target in targets):
        raise EscalationRefused(_("只能管理本单位及下级单位的用户。"))
    allowed = unit_group_ids(units_managed_by(actor))
    outside = [group.name for group in groups if group.pk not in allowed]
    if outside:
        raise EscalationRefused(_("只能分配本单位及下级单位的用户组：%(groups)s。") % {"groups": "、".join(outside)})


def guard_user_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    actor = _unprivileged_actor()
    if actor is None:
        return
    if not reverse and instance.pk == actor.pk:
        raise EscalationRefused(_("不能修改自己的权限。"))
    if reverse and actor.pk in (pk_set or ()):
        raise EscalationRefused(_("不能修改自己的权限。"))
    if not reverse and action == "pre_add":
        _refuse_model_permissions(actor, Permission.objects.filter(pk__in=pk_set))


def _refuse_model_permissions(actor, permissions):
    names = frozenset(
        f"{p.content_type.app_label}.{p.codename}" for p in permissions.select_related("content_type")
    )
    missing = lacking(actor, Powers(model=names)).model
    if missing:
        raise EscalationRefused(
            _("不能授予自己不具备的权限：%(perms)s。") % {"perms": "、".join(sorted(missing))}
        )


def guard_group_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action != "pre_add":
        return
    actor = _unprivileged_actor()
    if actor is None:
        return
    if reverse:  # permission.group_set.add(groups)
        _refuse_model_permissions(actor, Permission.objects.filter(pk=instance.pk))
    else:
        _refuse_model_permissions(actor, Permission.objects.filter(pk__in=pk_set))


def guard_tree_permission(sender, instance, raw=False, **kwargs):
    """GroupPagePermission / GroupCollectionPermission saved one at a time."""
    actor = _unprivileged_actor()
    if actor is None or raw:
        return
    key = (getattr(instance, "page_id", None) or instance.collection_id, instance.permission.codename)
    powers = (
        Powers(pages=frozenset([key]))
        if hasattr(instance, "page_id")
        else Powers(collections=frozenset([key]))
    )
    if lacking(actor, powers):
        raise EscalationRefused(_("不能授予自己不具备的页面或文件夹权限。"))


def guard_group_delete(sender, instance, **kwargs):
    actor = _unprivileged_actor()
    if actor is None:
        return
    if lacking(actor, group_powers(instance)):
        raise EscalationRefused(
            _("不能删除拥有自己不具备的权限的用户组：%(group)s。") % {"group": instance.name}
        )


def connect():
    from django.db.models.signals import m2m_changed, pre_delete, pre_save
    from wagtail.models import GroupCollectionPermission, GroupPagePermission

    User = get_user_model()
    pre_save.connect(guard_user_save, sender=User, dispatch_uid="audit.guard_user_save")
    m2m_changed.connect(guard_user_groups, sender=User.groups.through, dispatch_uid="audit.guard_user_groups")
    m2m_changed.connect(
        guard_user_permissions,
        sender=User.user_permissions.through,
        dispatch_uid="audit.guard_user_permissions",
    )
    m2m_changed.connect(
        guard_group_permissions,
        sender=Group.permissions.through,
        dispatch_uid="audit.guard_group_permissions",
    )
    pre_save.connect(guard_tree_permission, sender=GroupPagePermission, dispatch_uid="audit.guard_page_perm")
    pre_save.connect(
        guard_tree_permission, sender=GroupCollectionPermission, dispatch_uid="audit.guard_coll_perm"
    )
    pre_delete.connect(guard_group_delete, sender=Group, dispatch_uid="audit.guard_group_delete")
