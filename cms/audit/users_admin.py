"""Wagtail's user and group admin, with 三员分立 enforced (see ``cms.audit.roles``).

Wagtail lets anyone who may edit users make any user a superuser and put anyone (themselves
included) in any group. Here:

- only a superuser sees or sets 超级管理员 (``is_superuser``);
- the groups field offers only the groups whose powers the editor holds, keeps the other
  memberships as they are, and is absent when editing one's own account;
- account data (name, email, password, active) needs ``auth.change_user`` and may not be changed on
  an account holding powers the editor lacks (that would be taking it over); an account with
  ``audit.assign_roles`` alone (the security administrator) edits roles only;
- a group's permissions may only be given by someone who holds them.

A unit administrator (``cms.orgs``, 分级维护) sees and edits only the accounts of its unit and the
units below, and is offered only those units' groups (``cms.orgs.services.user_scope``).

The model-level guards (``cms.audit.guards``) refuse the same changes when a form is bypassed.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.users.forms import GroupForm, UserCreationForm, UserEditForm
from wagtail.users.views import groups as group_views
from wagtail.users.views import users as user_views
from wagtail.users.views.bulk_actions import AssignRoleBulkAction, DeleteBulkAction, SetActiveStateBulkAction

from .roles import ASSIGN_ROLES, EscalationRefused, Powers, assignable_groups, group_powers, lacking, outranks

User = get_user_model()
CHANGE_USER = f"{User._meta.app_label}.change_{User._meta.model_name}"


def _is_superuser(user) -> bool:
    return bool(user.is_active and user.is_superuser)


class RoleAwareUserPolicy(ModelPermissionPolicy):
    """``change`` on users is also granted by ``audit.assign_roles``, so the security administrator
    reaches the user edit form, where only the groups field is offered to them."""

    def user_has_permission(self, user, action):
        if action == "change" and user.is_active and user.has_perm(ASSIGN_ROLES):
            return True
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        users = super().users_with_any_permission(actions)
        if "change" not in actions:
            return users
        app_label, codename = ASSIGN_ROLES.split(".")
        perm = Q(content_type__app_label=app_label, codename=codename)
        assigners = User._default_manager.filter(
            Q(groups__permissions__in=Permission.objects.filter(perm))
            | Q(user_permissions__in=Permission.objects.filter(perm)),
            is_active=True,
        )
        return (users | assigners).distinct()


def _offered_groups(actor):
    """The groups an editor may assign: those whose powers it holds, and for a unit administrator
    only the groups of the units it manages."""
    from cms.orgs.services import scoped_groups

    return scoped_groups(actor, assignable_groups(actor))


class ScopedUserViewMixin:
    """A unit administrator reaches only the accounts of its own unit and the units below."""

    def dispatch(self, request, *args, **kwargs):
        from cms.orgs.services import may_manage_user

        if request.user.is_authenticated and not may_manage_user(request.user, self.get_object()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class UserIndexView(user_views.IndexView):
    def get_base_queryset(self):
        from cms.orgs.services import user_scope

        queryset = super().get_base_queryset()
        scope = user_scope(self.request.user)
        return queryset if scope is None else queryset.filter(pk__in=scope.values("pk"))


class GuardedUserFormMixin:
    """Fields an editor may not use are removed, so a crafted POST of them has no effect."""

    ACCOUNT_FIELDS_KEEP = ("groups",)
    passes_editing_self = False

    def __init__(self, *args, actor, editing_self=False, **kwargs):
        self.actor = actor
        target = kwargs.get("instance")
        self.account_editable = _is_superuser(actor) or (
            actor.has_perm(CHANGE_USER)
            and (editing_self or target is None or target.pk is None or not outranks(target, actor))
        )
        if self.passes_editing_self:
            kwargs["editing_self"] = editing_self
        super().__init__(*args, **kwargs)
        if not _is_superuser(actor):
            self.fields.pop("is_superuser", None)
        if editing_self:
            self.fields.pop("groups", None)
            self.fields.pop("is_superuser", None)
        elif "groups" in self.fields:
            self.fields["groups"].queryset = _offered_groups(actor)
            self._kept_groups = (
                list(target.groups.exclude(pk__in=self.fields["groups"].queryset))
                if target and target.pk
                else []
            )
            if self._kept_groups:
                self.fields["groups"].help_text = _("以下用户组超出你的权限，保持不变：%(groups)s") % {
                    "groups": "、".join(g.name for g in self._kept_groups)
                }
        if not self.account_editable:
            # Shown read-only: a disabled field keeps its initial value whatever is posted.
            for name in list(self.fields):
                if name in ("password1", "password2"):
                    del self.fields[name]
                elif name not in self.ACCOUNT_FIELDS_KEEP:
                    self.fields[name].disabled = True

    @property
    def password_enabled(self):
        return self.account_editable and super().password_enabled

    def clean_groups(self):
        groups = list(self.cleaned_data["groups"])
        return groups + [g for g in getattr(self, "_kept_groups", []) if g not in groups]


class GuardedUserCreationForm(GuardedUserFormMixin, UserCreationForm):
    pass


class GuardedUserEditForm(GuardedUserFormMixin, UserEditForm):
    # UserEditForm drops is_active/is_superuser for one's own account; the mixin does the rest.
    passes_editing_self = True


class RefuseEscalationMixin:
    """Show a refused escalation as a form error (the transaction is rolled back)."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["actor"] = self.request.user
        return kwargs

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except EscalationRefused as refused:
            if getattr(self, "object", None) is not None and self.object.pk and not form.instance.pk:
                self.object = None
            form.add_error(None, refused.message)
            self.produced_error_message = refused.message
            return self.form_invalid(form)


class UserCreateView(RefuseEscalationMixin, user_views.CreateView):
    pass


class UserEditView(ScopedUserViewMixin, RefuseEscalationMixin, user_views.EditView):
    pass


class UserDeleteView(ScopedUserViewMixin, user_views.DeleteView):
    def dispatch(self, request, *args, **kwargs):
        target = self.get_object()
        if outranks(target, request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class UserViewSet(user_views.UserViewSet):
    index_view_class = UserIndexView
    add_view_class = UserCreateView
    edit_view_class = UserEditView
    delete_view_class = UserDeleteView

    def get_form_class(self, for_update=False):
        return GuardedUserEditForm if for_update else GuardedUserCreationForm


# --- groups -----------------------------------------------------------------------------------


class GuardedGroupForm(GroupForm):
    """Offers only the permissions the editor holds, and keeps the group's others as they are."""

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields.pop("is_superuser", None)  # not a model field; Wagtail ignores it on save anyway
        if not _is_superuser(actor):
            held = actor.get_all_permissions()
            offered = [
                p.pk
                for p in self.fields["permissions"].queryset
                if f"{p.content_type.app_label}.{p.codename}" in held
            ]
            self.fields["permissions"].queryset = self.fields["permissions"].queryset.filter(pk__in=offered)
            self.registered_permissions = self.fields["permissions"].queryset


class _DryRun(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, powers):
        self.powers = powers


class GuardedGroupViewMixin(RefuseEscalationMixin):
    """Before saving, the whole change (form and every permission panel) is tried in a transaction
    that is rolled back; if it gives the group a power the editor lacks, nothing is saved."""

    def is_valid(self, form):
        if not super().is_valid(form):
            return False
        self.powers_before = group_powers(self.object) if self.object and self.object.pk else Powers()
        if _is_superuser(self.request.user):
            return True
        group = form.instance
        was_new = group.pk is None
        from .signals import group_change_recorded_by_view

        try:
            with transaction.atomic(), group_change_recorded_by_view():
                group = form.save()
                for panel in self.permission_panel_forms:
                    panel.instance = group
                    panel.save()
                raise _DryRun(group_powers(group))
        except _DryRun as dry:
            added = dry.powers.minus(self.powers_before)
            missing = lacking(self.request.user, added)
        except EscalationRefused as refused:
            missing, message = None, refused.message
        finally:
            if was_new:
                group.pk = None
                group._state.adding = True
        if missing is None or missing:
            if missing is not None:
                names = [name for names in missing.describe().values() for name in names]
                message = _("不能授予自己不具备的权限：%(perms)s") % {"perms": "、".join(names)}
            form.add_error(None, message)
            self.produced_error_message = message
            return False
        return True

    def process_form(self):
        from .signals import group_change_recorded_by_view, record_group_change

        with group_change_recorded_by_view():
            response = super().process_form()
        if (
            getattr(self, "object", None) is not None
            and self.object.pk
            and response.status_code in (301, 302)
        ):
            record_group_change(
                self.object, getattr(self, "powers_before", Powers()), group_powers(self.object)
            )
        return response


class GroupCreateView(GuardedGroupViewMixin, group_views.CreateView):
    pass


class GroupEditView(GuardedGroupViewMixin, group_views.EditView):
    pass


class GroupDeleteView(group_views.DeleteView):
    def dispatch(self, request, *args, **kwargs):
        if lacking(request.user, group_powers(self.get_object())):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class GroupViewSet(group_views.GroupViewSet):
    add_view_class = GroupCreateView
    edit_view_class = GroupEditView
    delete_view_class = GroupDeleteView

    def get_form_class(self, for_update=False):
        return GuardedGroupForm


# --- bulk actions -----------------------------------------------------------------------------


class GuardedAssignRoleBulkAction(AssignRoleBulkAction):
    """Offers only assignable groups, never the acting account itself."""

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["role"].queryset = _offered_groups(self.request.user)
        return form

    def get_actionable_objects(self):
        from cms.orgs.services import may_manage_user

        objects, without_access = super().get_actionable_objects()
        outside = [o for o in objects if not may_manage_user(self.request.user, o)]
        if outside:
            without_access["items_with_no_access"] = [*without_access.get("items_with_no_access", []), *outside]
            objects = [o for o in objects if o not in outside]
        mine = [o for o in objects if o.pk == self.request.user.pk]
        if mine:
            without_access["assign_own_role"] = mine
        return [o for o in objects if o.pk != self.request.user.pk], without_access


class GuardedSetActiveStateBulkAction(SetActiveStateBulkAction):
    """Leaves accounts that hold powers the editor lacks alone, and records each change
    (Wagtail updates the rows in one query, which sends no signal)."""

    def check_perm(self, obj):
        from cms.orgs.services import may_manage_user

        return (
            super().check_perm(obj)
            and not outranks(obj, self.request.user)
            and may_manage_user(self.request.user, obj)
        )

    @classmethod
    def execute_action(cls, objects, mark_as_active=False, model=None, **kwargs):
        from .log import record

        user = kwargs.get("user")
        changing = [o for o in objects if o.is_active != mark_as_active and (user is None or o.pk != user.pk)]
        result = super().execute_action(objects, mark_as_active=mark_as_active, model=model, **kwargs)
        for obj in changing:
            record("user.activated" if mark_as_active else "user.deactivated", user=obj, obj=obj)
        return result


class GuardedDeleteBulkAction(DeleteBulkAction):
    """Leaves accounts that hold powers the editor lacks alone (Wagtail only protects superusers)."""

    def check_perm(self, obj):
        from cms.orgs.services import may_manage_user

        return (
            super().check_perm(obj)
            and not outranks(obj, self.request.user)
            and may_manage_user(self.request.user, obj)
        )
