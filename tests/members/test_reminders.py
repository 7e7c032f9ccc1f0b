"""Reminders to a branch or a group: scope, recipients, sending once, results, the audit log.

Negative tests first: a branch's accounts never see another branch's members or reminders; a re-run
or a resumed crash never sends twice; an opted-out member gets nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Locale, ModelLogEntry, Page, Site

from cms.orgs.services import create_unit
from cms.visibility import members_group
from members import notify, services
from members.models import Delivery, MemberProfile, Reminder, mask_address
from tests.factories import HomePageFactory

from .sms_servers import Vendor

User = get_user_model()


class Tree:
    pass


def _home():
    """The smallest site a unit tree needs (build_site's full tree is not needed here)."""
    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node()
    for stale in root.get_children().filter(slug="home"):
        stale.delete()
    home = HomePageFactory(parent=root)
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "port": 80})
    return home


def status(client, url, method="get"):
    """The final status (the locale middleware sends an unprefixed admin URL on to /zh-hans/)."""
    return getattr(client, method)(url, follow=True).status_code


@pytest.fixture
def tree(db):
    t = Tree()
    t.committee = create_unit("01", "示范党委", root_page=_home())
    t.one = create_unit("0101", "第一支部", parent=t.committee)
    t.one_a = create_unit("010101", "第一支部一小组", parent=t.one)
    t.two = create_unit("0102", "第二支部", parent=t.committee)

    def staff(username, group):
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(group)
        return user

    t.admin1 = staff("admin1", t.one.admins_group)
    t.editor1 = staff("editor1", t.one.editors_group)
    t.admin2 = staff("admin2", t.two.admins_group)
    t.m1 = member("m1", t.one, mobile="13800000001")
    t.m1a = member("m1a", t.one_a, mobile="13800000002")
    t.m2 = member("m2", t.two, mobile="13900000003")
    return t


def member(username, unit, mobile="", email=None, **profile):
    user = User.objects.create_user(username, email=f"{username}@example.org" if email is None else email, password="pw")
    user.groups.add(members_group())
    MemberProfile.objects.create(user=user, unit=unit, mobile=mobile, **profile)
    return user


def reminder(unit=None, group=None, channel="email", **kw):
    return Reminder.objects.create(
        title=kw.pop("title", "月度学习任务"), message=kw.pop("message", "请完成本月学习。"),
        send_at=kw.pop("send_at", timezone.now() - timedelta(minutes=1)),
        unit=unit, group=group, channel=channel, **kw,
    )


@pytest.fixture
def sms(settings):
    v = Vendor("tencent")
    settings.SHUYUAN_NOTIFY = v.notify_setting()
    yield v
    v.api.stop()


# -- refused ----------------------------------------------------------------------------------------------


def test_a_branch_administrator_cannot_see_another_branchs_profiles(tree, client):
    assert set(services.profiles_for(tree.admin1).values_list("user__username", flat=True)) == {"m1", "m1a"}
    client.force_login(tree.admin1)
    listing = client.get("/admin/members/profiles/")
    assert listing.status_code == 200
    assert b"m1a" in listing.content and b"m2" not in listing.content
    other = tree.m2.member_profile
    for url in (f"/admin/members/profiles/edit/{other.pk}/", f"/admin/members/profiles/delete/{other.pk}/",
                f"/admin/members/profiles/inspect/{other.pk}/", f"/admin/members/profiles/history/{other.pk}/"):
        assert status(client, url) == 404, url
    assert status(client, f"/admin/members/profiles/delete/{other.pk}/", "post") == 404
    assert MemberProfile.objects.filter(pk=other.pk).exists()
    # nor move one of its own members into the sibling branch
    own = tree.m1.member_profile
    response = client.post(f"/admin/members/profiles/edit/{own.pk}/", {
        "user": tree.m1.pk, "unit": tree.two.pk, "mobile": "13800000001", "notify_by": "email",
    })
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    own.refresh_from_db()
    assert own.unit == tree.one


def test_a_branch_administrator_cannot_see_another_branchs_reminders(tree, client):
    theirs = reminder(unit=tree.two)
    group_reminder = reminder(group=tree.two.editors_group)
    ours = reminder(unit=tree.one_a, title="小组提醒")
    assert set(services.reminders_for(tree.admin1)) == {ours}
    assert set(services.reminders_for(tree.admin2)) == {theirs, group_reminder}
    client.force_login(tree.editor1)
    assert status(client, f"/admin/members/reminders/edit/{theirs.pk}/") == 404
    assert status(client, f"/admin/members/reminders/inspect/{group_reminder.pk}/") == 404
    listing = client.get("/admin/members/reminders/")
    assert "小组提醒".encode() in listing.content and "月度学习任务".encode() not in listing.content
    form = client.get("/admin/members/reminders/new/").context["form"]
    assert set(form.fields["unit"].queryset) == {tree.one, tree.one_a}
    assert tree.two.editors_group not in set(form.fields["group"].queryset)
    response = client.post("/admin/members/reminders/new/", {
        "title": "越权", "message": "x", "send_at": "2030-01-01 08:00", "unit": tree.two.pk, "channel": "email",
    })
    assert response.status_code == 200 and not Reminder.objects.filter(title="越权").exists()
    # deliveries follow their reminders
    services.send_reminder(theirs)
    assert not services.deliveries_for(tree.admin1).exists()
    assert client.get("/admin/members/deliveries/").status_code == 200


def test_a_rerun_never_sends_twice(tree):
    r = reminder(unit=tree.committee)
    first = services.send_reminder(r)
    assert first.status == Reminder.Status.SENT and first.counts["sent"] == 3
    assert services.send_reminder(r) is None
    assert services.send_due() == []
    call_command("send_reminders", stdout=None)
    assert len(mail.outbox) == 3
    assert Delivery.objects.filter(reminder=r).count() == 3


def test_a_resumed_crash_sends_only_what_was_never_sent(tree, sms):
    r = reminder(unit=tree.committee, channel="sms")
    extra = member("m1b", tree.one, mobile="13800000004")
    services._plan(r)  # a run that wrote its deliveries, then:
    rows = {d.user_id: d for d in r.deliveries.all()}
    Delivery.objects.filter(pk=rows[tree.m1.pk].pk).update(status="sent", sent_at=timezone.now())  # sent
    Delivery.objects.filter(pk=rows[tree.m1a.pk].pk).update(status="sending")  # in the vendor's hands when it died
    Reminder.objects.filter(pk=r.pk).update(status="sending", claim="dead", claimed_at=timezone.now() - timedelta(hours=1))
    assert services.send_reminder(r).status == Reminder.Status.PARTIAL
    assert sorted(sms.api.numbers()) == ["13800000004", "13900000003"]  # never m1 (sent) nor m1a (unknown)
    lost = Delivery.objects.get(reminder=r, user=tree.m1a)
    assert lost.status == "failed" and lost.code == "Interrupted" and "未重发" in lost.message
    assert Delivery.objects.get(reminder=r, user=extra).status == "sent"


def test_a_claimed_reminder_is_not_taken_by_a_second_run(tree):
    r = reminder(unit=tree.one)
    assert services.claim(r) is not None
    assert services.claim(r) is None
    assert services.send_reminder(r) is None and mail.outbox == []


def test_an_opted_out_member_gets_nothing(tree, sms):
    profile = tree.m1.member_profile
    profile.opted_out = True
    profile.save()
    nomobile = member("nomobile", tree.one, mobile="")
    r = reminder(unit=tree.one, channel="sms", include_descendants=False)
    outcome = services.send_reminder(r)
    assert sms.api.accepted == [] and outcome.counts["sent"] == 0
    skipped = {d.user_id: d.message for d in r.deliveries.filter(status="skipped")}
    assert skipped == {tree.m1.pk: "会员已选择不接收提醒", nomobile.pk: "没有手机号"}
    e = reminder(unit=tree.one, include_descendants=False)
    services.send_reminder(e)
    assert [m.to for m in mail.outbox] == [["nomobile@example.org"]]


def test_a_profile_needs_a_mainland_mobile_for_sms(tree):
    p = MemberProfile(user=User.objects.create_user("x"), unit=tree.one, mobile="12345", notify_by="sms")
    with pytest.raises(ValidationError) as caught:
        p.full_clean()
    assert "mobile" in caught.value.message_dict
    p.mobile = ""
    with pytest.raises(ValidationError, match="手机号"):
        p.full_clean()
    p.mobile, p.notify_by = "+8613800000000", "email"
    with pytest.raises(ValidationError):
        p.full_clean()
    p.mobile = "13800000000"
    p.full_clean()


def test_a_reminder_has_one_audience():
    with pytest.raises(ValidationError, match="二选一"):
        Reminder(title="t", message="m").clean()


def test_sms_cannot_be_scheduled_without_an_sms_backend(tree, client, settings):
    del settings.SHUYUAN_NOTIFY
    client.force_login(tree.editor1)
    response = client.post("/admin/members/reminders/new/", {
        "title": "短信", "message": "x", "send_at": "2030-01-01 08:00", "unit": tree.one.pk, "channel": "sms",
    })
    assert response.status_code == 200 and "channel" in response.context["form"].errors


# -- sending -----------------------------------------------------------------------------------------------


def test_email_reminders_land_in_the_outbox_and_are_recorded(tree):
    r = reminder(unit=tree.one)  # with the units below
    outcome = services.send_reminder(r)
    assert sorted(m.to[0] for m in mail.outbox) == ["m1@example.org", "m1a@example.org"]
    assert mail.outbox[0].subject == "【书苑】月度学习任务" and mail.outbox[0].body == "请完成本月学习。"
    assert outcome.status == "sent" and outcome.counts["sent"] == 2
    r.refresh_from_db()
    assert r.status == "sent" and r.finished_at is not None
    assert all(d.sent_at and d.channel == "email" for d in r.deliveries.all())


def test_sending_writes_a_wagtail_audit_log_entry(tree):
    r = reminder(unit=tree.one, include_descendants=False)
    services.send_reminder(r)
    entry = ModelLogEntry.objects.get(action=services.SEND_ACTION, object_id=str(r.pk))
    assert entry.data["sent"] == 1 and entry.data["audience"] == "第一支部"
    assert entry.label == "月度学习任务"


def test_a_group_reminder_reaches_the_groups_accounts(tree):
    tree.admin1.email = "admin1@example.org"
    tree.admin1.save()
    quiet = User.objects.create_user("quiet")  # no e-mail address
    quiet.groups.add(tree.one.admins_group)
    outsider = User.objects.create_user("outsider", email="outsider@example.org")
    r = reminder(group=tree.one.admins_group)
    services.send_reminder(r)
    assert [m.to for m in mail.outbox] == [["admin1@example.org"]]
    assert r.deliveries.get(user=quiet).message == "没有邮箱地址"
    assert not r.deliveries.filter(user=outsider).exists()


def test_the_worker_task_sends_what_is_due(tree):
    from members.tasks import send_due_reminders

    r = reminder(unit=tree.one, include_descendants=False)
    result = send_due_reminders.enqueue()
    assert result.return_value == {"status": "ok", "reminders": {r.pk: "sent"}}
    assert len(mail.outbox) == 1


def test_a_failed_vendor_call_fails_its_batch_and_leaves_the_others(tree, sms):
    for i in range(450):
        member(f"bulk{i:03d}", tree.two, mobile=f"137{i:08d}", email="")
    sms.api.fail_calls = [("LimitExceeded.AppDailyLimit", "业务短信日下发条数超过设定的上限")]
    r = reminder(unit=tree.two, channel="sms")
    outcome = services.send_reminder(r)
    calls = [len(c["numbers"]) for c in sms.api.accepted]
    assert calls == [200, 51]  # the first call of 200 was refused whole; the Tencent limit is 200 a call
    assert outcome.status == "partial" and outcome.counts == {**outcome.counts, "sent": 251, "failed": 200}
    failed = r.deliveries.filter(status="failed")
    assert {d.code for d in failed} == {"LimitExceeded.AppDailyLimit"} and "上限" in failed[0].message
    assert not r.deliveries.filter(status="pending").exists()


def test_preferred_channel_follows_each_members_choice(tree, sms):
    p = tree.m1.member_profile
    p.notify_by = "sms"
    p.save()
    r = reminder(unit=tree.one, channel="preferred")
    services.send_reminder(r)
    assert sms.api.numbers() == ["13800000001"]
    assert [m.to for m in mail.outbox] == [["m1a@example.org"]]


def test_the_command_lists_due_reminders_on_a_dry_run_and_sends_them_otherwise(tree, capsys):
    due = reminder(unit=tree.committee)
    reminder(unit=tree.one, send_at=timezone.now() + timedelta(days=1))
    call_command("send_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert f"#{due.pk} 月度学习任务：收件人 3，其中不发送 0" in out and "到期提醒 1 条" in out
    assert mail.outbox == [] and not Delivery.objects.exists()
    call_command("send_reminders")
    assert "已发送 3" in capsys.readouterr().out and len(mail.outbox) == 3


def test_the_admin_lists_masked_addresses(tree, client, sms):
    r = reminder(unit=tree.one, channel="sms", include_descendants=False)
    services.send_reminder(r)
    client.force_login(tree.admin1)
    page = client.get("/admin/members/deliveries/").content.decode()
    assert "138****0001" in page and "13800000001" not in page
    assert mask_address("someone@example.org") == "s***@example.org"


def test_a_new_units_groups_get_their_powers(tree):
    assert tree.admin1.has_perm("members.change_memberprofile")
    assert tree.editor1.has_perm("members.add_reminder")
    assert not tree.editor1.has_perm("members.change_memberprofile")


def test_a_scheduled_reminder_is_created_by_an_editor_in_the_admin(tree, client):
    client.force_login(tree.editor1)
    response = client.post("/admin/members/reminders/new/", {
        "title": "问卷截止", "message": "本周五截止", "send_at": "2030-01-01 08:00",
        "unit": tree.one.pk, "include_descendants": "on", "channel": "email",
    })
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    r = Reminder.objects.get(title="问卷截止")
    assert r.created_by == tree.editor1 and r.status == "scheduled"
    assert services.send_due() == []  # not due yet
    assert notify.channels() == ["email"]
