"""The SMS backends, through the vendors' SDKs, against local servers that check every signature.

Refusals first: the servers must refuse a wrong secret, a changed payload and a replay, or every test
passing through them proves nothing; a bad SHUYUAN_NOTIFY stops start-up with a message naming it.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from members import notify
from members.notify.base import Message
from tests.signed_apis import sha256

from .sms_servers import SECRET, VENDORS, Vendor

MESSAGE = Message(title="问卷即将截止", body="请于本周五前完成党员学习问卷。")


@pytest.fixture(params=sorted(VENDORS))
def vendor(request):
    v = Vendor(request.param)
    yield v
    v.api.stop()


def _numbers(n: int, start: int = 0) -> list[str]:
    return [f"138{i:08d}" for i in range(start, start + n)]


def build(vendor: Vendor, settings, **options):
    settings.SHUYUAN_NOTIFY = vendor.notify_setting(**options)
    return notify.backend("sms")


# -- refusals first --------------------------------------------------------------------------------


def test_a_wrong_secret_is_refused_by_the_server_and_every_number_fails(vendor, settings):
    backend = build(vendor, settings, secret="not-the-secret")
    results = backend.send(MESSAGE, _numbers(3))
    expected = "SignatureDoesNotMatch" if vendor.name == "aliyun" else "AuthFailure.SignatureFailure"
    assert vendor.api.accepted == [] and vendor.api.refused == [expected]
    assert [(r.ok, r.code) for r in results] == [(False, expected)] * 3
    assert all(r.message for r in results)


def test_the_server_refuses_a_changed_payload_a_replay_and_an_unknown_key(vendor, settings):
    """Proves the servers check what they are sent, so that the accepting tests mean something."""
    backend = build(vendor, settings)
    assert all(r.ok for r in backend.send(MESSAGE, _numbers(2)))
    assert len(vendor.api.accepted) == 1
    path, _headers, body = vendor.api.raw[0]
    if vendor.name == "aliyun":
        # the numbers travel in the signed query: another number breaks the signature
        changed = path.replace("13800000001", "13900000009")
        assert changed != path
        assert vendor.api.replay(0, path=changed, x_acs_signature_nonce="fresh-nonce-1") == "SignatureDoesNotMatch"
        assert vendor.api.replay(0, body=b"x=1", x_acs_content_sha256=sha256(b"x=1"), x_acs_signature_nonce="n2") == "SignatureDoesNotMatch"
        assert vendor.api.replay(0) == "SignatureNonceUsed"
        assert vendor.api.replay(0, Authorization="") == "IncompleteSignature"
    else:
        changed = body.replace(b"13800000001", b"13900000009")
        assert changed != body
        assert vendor.api.replay(0, body=changed) == "AuthFailure.SignatureFailure"
        assert vendor.api.replay(0, X_TC_Timestamp=str(int(time.time()) - 3600)) == "AuthFailure.SignatureExpire"
        assert vendor.api.replay(0, Authorization="") == "AuthFailure.InvalidAuthorization"
    assert len(vendor.api.accepted) == 1
    vendor.api.secrets = {"someone-else": SECRET}
    results = notify.backend("sms").send(MESSAGE, _numbers(1))
    assert not results[0].ok and len(vendor.api.accepted) == 1


def test_an_unreachable_api_fails_every_number_of_the_call(vendor, settings):
    backend = build(vendor, settings)
    vendor.api.stop()
    results = backend.send(MESSAGE, _numbers(2))
    assert [r.ok for r in results] == [False, False] and all(r.code for r in results)


def test_a_bad_notify_setting_stops_start_up_with_a_clear_message(vendor, settings):
    settings.SHUYUAN_NOTIFY = vendor.notify_setting(secret="")
    with pytest.raises(SystemCheckError, match=rf'SHUYUAN_NOTIFY\["sms"\].*{vendor.secret_option}'):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match=vendor.secret_option):
        notify.validate()
    settings.SHUYUAN_NOTIFY = vendor.notify_setting(TIMEOUT=0)
    with pytest.raises(ImproperlyConfigured, match="TIMEOUT"):
        notify.validate()
    settings.SHUYUAN_NOTIFY = vendor.notify_setting(PROTOCOL="ftp")
    with pytest.raises(ImproperlyConfigured, match="PROTOCOL"):
        notify.validate()
    settings.SHUYUAN_NOTIFY = vendor.notify_setting(TEMPLATE_PARAMS=7)
    with pytest.raises(ImproperlyConfigured, match="TEMPLATE_PARAMS"):
        notify.validate()


def test_malformed_declarations_are_refused_naming_the_setting(settings):
    for bad, words in [
        ({"fax": {"BACKEND": "members.notify.email.EmailBackend"}}, "unknown channels"),
        ({"sms": {"BACKEND": "members.notify.nowhere.Backend"}}, "cannot be imported"),
        ({"sms": {"BACKEND": "members.notify.email.EmailBackend"}}, "sends by 'email', not 'sms'"),
        ({"email": {"BACKEND": "deploy.cdn.aliyun.AliyunCdnBackend"}}, "not a notification backend"),
        ({"email": {"BACKEND": "members.notify.email.EmailBackend", "OPTION": {}}}, "unknown keys"),
        ({"email": {"BACKEND": "members.notify.email.EmailBackend", "OPTIONS": {"CONNECTION": "no.such.Backend"}}}, "CONNECTION"),
        (["email"], "dict by channel"),
    ]:
        settings.SHUYUAN_NOTIFY = bad
        with pytest.raises(ImproperlyConfigured, match="SHUYUAN_NOTIFY") as caught:
            notify.validate()
        assert words in str(caught.value)


def test_without_the_setting_email_goes_through_django_mail_and_there_is_no_sms(settings):
    del settings.SHUYUAN_NOTIFY
    assert notify.channels() == ["email"]
    assert type(notify.backend("email")).__name__ == "EmailBackend"
    with pytest.raises(ImproperlyConfigured, match='SHUYUAN_NOTIFY\\["sms"\\] is not declared'):
        notify.backend("sms")


# -- what the vendors receive ------------------------------------------------------------------------


def test_the_request_is_signed_and_carries_numbers_template_and_params(vendor, settings):
    backend = build(vendor, settings)
    numbers = _numbers(3)
    results = backend.send(MESSAGE, numbers)
    assert vendor.api.refused == []
    (call,) = vendor.api.accepted
    assert call["numbers"] == numbers and call["sign"] == "书苑"
    if vendor.name == "aliyun":
        assert call["template"] == "SMS_000001"
        assert call["params"] == {"title": MESSAGE.title, "content": MESSAGE.body}
        assert {r.ref for r in results} == {call["biz_id"]}
    else:
        assert call["template"] == "100001" and call["app"] == "1400000001"
        assert call["e164"] == [f"+86{n}" for n in numbers]
        assert call["params"] == [MESSAGE.title, MESSAGE.body]
        assert len({r.ref for r in results}) == 3
    assert all(r.ok for r in results) and [r.address for r in results] == numbers


def test_template_params_map_reminder_fields(vendor, settings):
    if vendor.name == "aliyun":
        backend = build(vendor, settings, TEMPLATE_PARAMS={"name": "title"})
        backend.send(MESSAGE, _numbers(1))
        assert vendor.api.accepted[0]["params"] == {"name": MESSAGE.title}
    else:
        backend = build(vendor, settings, TEMPLATE_PARAMS=["title"])
        backend.send(MESSAGE, _numbers(1))
        assert vendor.api.accepted[0]["params"] == [MESSAGE.title]


def test_the_per_call_limit_is_the_vendors(vendor, settings):
    backend = build(vendor, settings)
    assert backend.max_per_call == vendor.per_call  # 1,000 on Alibaba's SendSms, 200 on Tencent's
    with pytest.raises(ValueError, match="at most"):
        backend.send(MESSAGE, _numbers(vendor.per_call + 1))
    assert all(r.ok for r in backend.send(MESSAGE, _numbers(vendor.per_call)))


def test_a_refused_number_fails_with_the_vendors_code(vendor, settings):
    backend = build(vendor, settings)
    numbers = _numbers(3)
    vendor.api.bad_numbers = {numbers[1]}
    results = backend.send(MESSAGE, numbers)
    if vendor.name == "aliyun":  # the call is refused as a whole
        assert [(r.ok, r.code) for r in results] == [(False, "isv.MOBILE_NUMBER_ILLEGAL")] * 3
    else:  # per number
        assert [(r.ok, r.code) for r in results] == [
            (True, "Ok"), (False, "InvalidParameterValue.IncorrectPhoneNumber"), (True, "Ok"),
        ]
    assert json.dumps([r.message for r in results], ensure_ascii=False)
