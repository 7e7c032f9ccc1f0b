"""Who sees which members and reminders, who a reminder reaches, and sending it.

**Scope (分级维护).** An account in a unit's groups (编辑, 审核, 管理员) sees and edits the member
profiles and reminders of its own unit and the units below; superusers and site-wide roles (accounts in
no unit group, holding the permission some other way) see all. ``unit_scope`` returns None for "all".

**Sending.** ``send_reminder`` is safe to interrupt and to run twice at once:

1. the reminder is *claimed* by a conditional update (a claim older than ``CLAIM_TIMEOUT`` is taken
   over, so a crashed worker's reminder is resumed, never left half-sent);
2. one ``Delivery`` row per recipient is written before anything is sent (unique per reminder and
   user): skipped ones (opted out, no address for the channel) say why;
3. pending deliveries go out in batches of the backend's ``max_per_call``; a batch is marked
   ``sending`` (committed) before the vendor is called and gets its results after. A resumed run
   never sends again what is ``sent`` or ``sending``: a batch whose outcome a crash lost is recorded
   as failed ("结果未知"), because sending twice is worse than asking an editor to look;
4. the reminder's status (sent, partial, failed) and a Wagtail audit-log entry
   (``shuyuan.reminder.send``) close it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from wagtail.log_actions import log

from cms.orgs.models import Organisation
from cms.orgs.services import group_units, unit_group_ids
from cms.visibility import members_group

from . import notify
from .models import Channel, Delivery, MemberProfile, Reminder

logger = logging.getLogger("shuyuan.members")

SEND_ACTION = "shuyuan.reminder.send"
CLAIM_TIMEOUT = timedelta(minutes=15)
UNKNOWN_OUTCOME = "发送过程中断，结果未知，未重发"

#: the powers a unit's groups get over members and reminders (``grant_unit_powers``)
UNIT_PERMISSIONS = {
    "editors": ("view_reminder", "add_reminder", "change_reminder"),
    "reviewers": ("view_reminder", "add_reminder", "change_reminder"),
    "admins": (
        "view_reminder", "add_reminder", "change_reminder", "delete_reminder",
        "view_memberprofile", "add_memberprofile", "change_memberprofile", "delete_memberprofile",
    ),
}


# -- scope -------------------------------------------------------------------------------------------------


def unit_scope(user) -> QuerySet[Organisation] | None:
    """The units whose members and reminders ``user`` handles; None for every unit."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    if user.is_superuser:
        return None
    units = group_units()
    own = set(user.groups.values_list("pk", flat=True))
    mine = [unit for gid, (unit, _role) in units.items() if gid in own]
    if not mine:
        return None
    others = own - set(units)
    if Permission.objects.filter(group__in=others, content_type__app_label="members").exists():
        return None  # a site-wide role besides the unit one
    q = Q(pk=None)
    for unit in mine:
        q |= Q(code__startswith=unit.code)
    return Organisation.objects.filter(q).order_by("code")


def profiles_for(user) -> QuerySet[MemberProfile]:
    scope = unit_scope(user)
    qs = MemberProfile.objects.select_related("user", "unit")
    return qs if scope is None else qs.filter(unit__in=scope)


def groups_for(user) -> QuerySet[Group]:
    """The groups ``user`` may send reminders to: all, or the groups of the units in scope."""
    scope = unit_scope(user)
    return Group.objects.all() if scope is None else Group.objects.filter(pk__in=unit_group_ids(scope))


def reminders_for(user) -> QuerySet[Reminder]:
    scope = unit_scope(user)
    qs = Reminder.objects.select_related("unit", "group")
    if scope is None:
        return qs
    return qs.filter(Q(unit__in=scope) | Q(group__in=groups_for(user)))


def deliveries_for(user) -> QuerySet[Delivery]:
    return Delivery.objects.filter(reminder__in=reminders_for(user)).select_related("reminder", "user")


def member_candidates(user, instance: MemberProfile | None = None):
    """The accounts ``user`` may give a profile: members (会员) without one, and the profile's own."""
    User = get_user_model()
    qs = User._default_manager.filter(groups=members_group(), is_active=True, member_profile__isnull=True)
    if instance is not None and instance.user_id:
        qs = qs | User._default_manager.filter(pk=instance.user_id)
    return qs.distinct().order_by("username")


def grant_unit_powers(unit: Organisation) -> None:
    """Give a unit's groups their powers over reminders and member profiles (``unit_created``)."""
    for role, codenames in UNIT_PERMISSIONS.items():
        group = getattr(unit, f"{role}_group", None)
        if group is not None:
            group.permissions.add(*Permission.objects.filter(content_type__app_label="members", codename__in=codenames))


def on_unit_created(sender, unit, **kwargs) -> None:
    grant_unit_powers(unit)


# -- recipients ------------------------------------------------------------------------------------------


def recipients(reminder: Reminder):
    """The active accounts a reminder reaches, with their profiles."""
    User = get_user_model()
    qs = User._default_manager.filter(is_active=True)
    if reminder.unit_id:
        units = reminder.unit.descendants() if reminder.include_descendants else Organisation.objects.filter(pk=reminder.unit_id)
        qs = qs.filter(groups=members_group(), member_profile__unit__in=units)
    else:
        qs = qs.filter(groups=reminder.group_id)
    return qs.select_related("member_profile").distinct().order_by("pk")


def route(reminder: Reminder, user) -> tuple[str, str, str]:
    """(channel, address, reason to skip or "") for one recipient."""
    profile = getattr(user, "member_profile", None)
    channel = reminder.channel
    if channel == Reminder.ChannelChoice.PREFERRED:
        channel = profile.notify_by if profile else Channel.EMAIL
    if profile is not None and profile.opted_out:
        return channel, "", "会员已选择不接收提醒"
    address = user.email if channel == Channel.EMAIL else (profile.mobile if profile else "")
    if not address:
        return channel, "", "没有邮箱地址" if channel == Channel.EMAIL else "没有手机号"
    if channel not in notify.channels():
        return channel, address, f"未配置{Channel(channel).label}通道（SHUYUAN_NOTIFY）"
    return channel, address, ""


def recipient_counts(reminder: Reminder) -> dict[str, int]:
    """What a send would do now: recipients, and how many of them would be skipped."""
    counts = {"recipients": 0, "skipped": 0}
    for user in recipients(reminder):
        counts["recipients"] += 1
        counts["skipped"] += bool(route(reminder, user)[2])
    return counts


# -- sending ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    reminder_id: int
    status: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def due_reminders(now=None) -> QuerySet[Reminder]:
    now = now or timezone.now()
    return Reminder.objects.filter(
        Q(status=Reminder.Status.SCHEDULED) | Q(status=Reminder.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
        send_at__lte=now,
    ).order_by("send_at", "pk")


def claim(reminder: Reminder) -> str | None:
    """Take the reminder for this run; None when another run holds it (or it is done)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = Reminder.objects.filter(
        Q(status=Reminder.Status.SCHEDULED) | Q(status=Reminder.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=reminder.pk,
        send_at__lte=now,
    ).update(status=Reminder.Status.SENDING, claim=token, claimed_at=now)
    return token if taken else None


def _plan(reminder: Reminder) -> None:
    """One Delivery per recipient, written once (a resumed run adds only the new ones)."""
    known = set(reminder.deliveries.values_list("user_id", flat=True))
    rows = []
    for user in recipients(reminder):
        if user.pk in known:
            continue
        channel, address, reason = route(reminder, user)
        rows.append(Delivery(
            reminder=reminder, user=user, channel=channel, address=address,
            status=Delivery.Status.SKIPPED if reason else Delivery.Status.PENDING, message=reason,
        ))
    Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def _still_mine(reminder: Reminder, token: str) -> bool:
    return Reminder.objects.filter(pk=reminder.pk, claim=token, status=Reminder.Status.SENDING).exists()


def _send_channel(reminder: Reminder, channel: str, token: str) -> None:
    backend = notify.backend(channel)
    message = notify.Message(title=reminder.title, body=reminder.message)
    pending = reminder.deliveries.filter(channel=channel, status=Delivery.Status.PENDING).order_by("pk")
    while True:
        batch = list(pending[: backend.max_per_call])
        if not batch or not _still_mine(reminder, token):
            return
        ids = [d.pk for d in batch]
        # committed before the vendor is called: a crash from here on never sends these again
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(status=Delivery.Status.SENDING)
        results = backend.send(message, [d.address for d in batch])
        _record(batch, results)


def _record(batch: list[Delivery], results: list[notify.Result]) -> None:
    by_address: dict[str, list[notify.Result]] = {}
    for r in results:
        by_address.setdefault(r.address, []).append(r)
    now = timezone.now()
    with transaction.atomic():
        for delivery in batch:
            found = by_address.get(delivery.address) or []
            result = found.pop(0) if found else notify.Result(delivery.address, False, "NoResult", "后端没有返回该地址的结果")
            delivery.status = Delivery.Status.SENT if result.ok else Delivery.Status.FAILED
            delivery.code, delivery.message, delivery.vendor_ref = result.code[:100], result.message[:500], result.ref[:100]
            delivery.sent_at = now if result.ok else None
        Delivery.objects.bulk_update(batch, ["status", "code", "message", "vendor_ref", "sent_at"])


def _close(reminder: Reminder, token: str, user=None) -> Outcome:
    counts = dict(reminder.deliveries.values_list("status").annotate(n=Count("pk")).order_by())
    counts = {s: counts.get(s, 0) for s in Delivery.Status.values}
    if counts["failed"] and counts["sent"]:
        status = Reminder.Status.PARTIAL
    elif counts["failed"]:
        status = Reminder.Status.FAILED
    else:
        status = Reminder.Status.SENT
    error = f"{counts['failed']} 人发送失败" if counts["failed"] else ""
    with transaction.atomic():
        closed = Reminder.objects.filter(pk=reminder.pk, claim=token, status=Reminder.Status.SENDING).update(
            status=status, finished_at=timezone.now(), error=error, claim=""
        )
        if closed:
            reminder.refresh_from_db()
            log(
                instance=reminder, action=SEND_ACTION, user=user,
                data={"title": reminder.title, "audience": reminder.audience_label, "channel": reminder.channel, **counts},
            )
    return Outcome(reminder.pk, status, counts)


def send_reminder(reminder: Reminder, user=None) -> Outcome | None:
    """Send one due reminder (see the module's docstring); None when it is not ours to send now."""
    token = claim(reminder)
    if token is None:
        return None
    _plan(reminder)
    # a batch a crashed run left "sending": its outcome is unknown, and it is never sent again
    reminder.deliveries.filter(status=Delivery.Status.SENDING).update(status=Delivery.Status.FAILED, code="Interrupted", message=UNKNOWN_OUTCOME)
    for channel in notify.CHANNELS:
        if reminder.deliveries.filter(channel=channel, status=Delivery.Status.PENDING).exists():
            _send_channel(reminder, channel, token)
    return _close(reminder, token, user)


def send_due(now=None, user=None) -> list[Outcome]:
    """Send every reminder that is due."""
    outcomes = []
    for reminder in due_reminders(now):
        outcome = send_reminder(reminder, user=user)
        if outcome is not None:
            logger.info("reminder %s: %s %s", reminder.pk, outcome.status, outcome.counts)
            outcomes.append(outcome)
    return outcomes
