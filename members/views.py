"""The admin's 会员参与 menu: 会员信息 (member profiles), 提醒 (reminders) and 发送记录 (deliveries).

Every view of these models asks ``members.services`` which rows the account may touch (分级维护): the
listing, and any single object reached by its URL (edit, delete, inspect, history, usage), so a unit's
accounts never see another unit's members or reminders, even by guessing an id. The forms offer only
the units, groups and accounts inside that scope.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.views.generic import history, usage
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import AdminDateTimeInput
from wagtail.permissions import ModelPermissionPolicy

from cms.orgs.models import Organisation

from . import notify, services
from .models import Delivery, MemberProfile, Reminder


class ScopedObject:
    """An object outside the account's scope is not found (404), as if it did not exist."""

    scoped = None  # services.profiles_for / reminders_for / deliveries_for

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if not type(self).scoped(self.request.user).filter(pk=obj.pk).exists():
            raise Http404
        return obj


class ScopedIndex(generic.IndexView):
    scoped = None

    def get_base_queryset(self):
        return type(self).scoped(self.request.user)


def scoped_by(scoped):
    """Class decorator: a ModelViewSet's views narrowed by ``scoped(user)`` (attributes the class
    sets itself, such as its own ``edit_view_class``, are kept)."""
    fn = staticmethod(scoped)
    views = {
        "index_view_class": type("Index", (ScopedIndex,), {"scoped": fn}),
        "edit_view_class": type("Edit", (ScopedObject, generic.EditView), {"scoped": fn}),
        "delete_view_class": type("Delete", (ScopedObject, generic.DeleteView), {"scoped": fn}),
        "inspect_view_class": type("Inspect", (ScopedObject, generic.InspectView), {"scoped": fn}),
        "history_view_class": type("History", (ScopedObject, history.HistoryView), {"scoped": fn}),
        "usage_view_class": type("Usage", (ScopedObject, usage.UsageView), {"scoped": fn}),
    }

    def decorate(viewset):
        for name, view in views.items():
            if name not in viewset.__dict__:
                setattr(viewset, name, view)
        return viewset

    return decorate


def _units(user):
    scope = services.unit_scope(user)
    return Organisation.objects.order_by("code") if scope is None else scope


# -- 会员信息 ------------------------------------------------------------------------------------------------


class MemberProfileForm(WagtailAdminModelForm):
    class Meta:
        model = MemberProfile
        fields = ["user", "unit", "mobile", "notify_by", "opted_out"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        self.fields["unit"].queryset = _units(user)
        self.fields["user"].queryset = services.member_candidates(user, self.instance if self.instance.pk else None)
        self.fields["user"].help_text = "会员组（会员）中尚未登记的账号。"


@scoped_by(services.profiles_for)
class MemberProfileViewSet(ModelViewSet):
    model = MemberProfile
    icon = "user"
    menu_label = "会员信息"
    name = "member_profiles"
    url_prefix = "members/profiles"
    list_display = ["user", "unit", "masked_mobile", "notify_by", "opted_out"]
    list_filter = ["notify_by", "opted_out"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_form_class(self, for_update=False):
        return MemberProfileForm


# -- 提醒 -----------------------------------------------------------------------------------------------------


class ReminderForm(WagtailAdminModelForm):
    class Meta:
        model = Reminder
        fields = ["title", "message", "send_at", "unit", "include_descendants", "group", "channel"]
        widgets = {"send_at": AdminDateTimeInput, "message": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(self.for_user)
        self.fields["group"].queryset = services.groups_for(self.for_user).order_by("name")
        self.fields["group"].help_text = "选择支部时留空；也可以改为发送给一个用户组（二选一）。"

    def clean_channel(self):
        channel = self.cleaned_data["channel"]
        available = notify.channels()
        needed = available if channel == Reminder.ChannelChoice.PREFERRED else [channel]
        if channel != Reminder.ChannelChoice.PREFERRED and channel not in available:
            raise forms.ValidationError("系统未配置该提醒方式（SHUYUAN_NOTIFY），请选择其他方式。")
        if not needed:
            raise forms.ValidationError("系统未配置任何提醒方式（SHUYUAN_NOTIFY）。")
        return channel


class ReminderSaved:
    """Records who scheduled it; after the commit, the worker is told when to send."""

    def save_instance(self):
        if self.form.instance.pk is None:
            self.form.instance.created_by = self.request.user
        instance = super().save_instance()
        from .tasks import schedule

        transaction.on_commit(lambda: schedule(instance))
        return instance


class ReminderEdit(ReminderSaved, ScopedObject, generic.EditView):
    scoped = staticmethod(services.reminders_for)

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj.status != Reminder.Status.SCHEDULED and self.request.method == "POST":
            raise PermissionDenied("已开始发送的提醒不能修改。")
        return obj


class ReminderCreate(ReminderSaved, generic.CreateView):
    pass


@scoped_by(services.reminders_for)
class ReminderViewSet(ModelViewSet):
    model = Reminder
    icon = "mail"
    menu_label = "提醒"
    name = "reminders"
    url_prefix = "members/reminders"
    list_display = ["title", "audience_label", "channel", "send_at", "status", "finished_at"]
    list_filter = ["status", "channel"]
    search_fields = ["title"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = ["title", "message", "send_at", "audience_label", "channel", "status", "error", "finished_at", "created_by"]
    edit_view_class = ReminderEdit
    add_view_class = ReminderCreate

    def get_form_class(self, for_update=False):
        return ReminderForm


# -- 发送记录 -------------------------------------------------------------------------------------------------


class DeliveryPolicy(ModelPermissionPolicy):
    """Delivery rows are written by sending only; whoever may see reminders reads them."""

    def user_has_permission(self, user, action):
        if action == "view":
            return user.is_active and (user.is_superuser or user.has_perm("members.view_reminder"))
        return False


@scoped_by(services.deliveries_for)
class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "list-ul"
    menu_label = "发送记录"
    name = "reminder_deliveries"
    url_prefix = "members/deliveries"
    list_display = ["reminder", "user", "channel", "masked_address", "status", "code", "message", "sent_at"]
    list_filter = ["status", "channel"]  # not by reminder: its choices would name every unit's reminders
    list_export = ["reminder", "user", "channel", "masked_address", "status", "code", "message", "vendor_ref", "sent_at"]
    export_filename = "提醒发送记录"
    copy_view_enabled = False
    inspect_view_enabled = False
    form_fields = ["status"]


class MembersGroup(ViewSetGroup):
    menu_label = "会员参与"
    menu_icon = "group"
    menu_order = 250
    items = (MemberProfileViewSet, ReminderViewSet, DeliveryViewSet)
