"""Alibaba Cloud SMS and Tencent Cloud SMS on loopback ports, for the SMS backends' tests.

Servers of tests/signed_apis.py, like the CDN fakes: each checks the signature, nonce and timestamp
as the vendor does (Alibaba: ACS3-HMAC-SHA256; Tencent: TC3-HMAC-SHA256), then the action, the
numbers (mainland, at most the API's per-call limit), the signature name, the template and its
parameters.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qsl

from tests.signed_apis import Refused, SignedApiServer

KEY_ID = "LTAI5tShuyuanSmsKey"
SECRET = "shuyuan-sms-test-secret-0123456789"
MAINLAND = re.compile(r"^1[3-9]\d{9}$")


class FakeSmsApi(SignedApiServer):
    def __init__(self) -> None:
        super().__init__({KEY_ID: SECRET})
        #: numbers the operator refuses (per-number errors where the API has them)
        self.bad_numbers: set[str] = set()
        #: an error for the next calls as a whole: (code, message)
        self.fail_calls: list[tuple[str, str]] = []

    def numbers(self) -> list[str]:
        return [n for c in self.accepted for n in c["numbers"]]

    def _call_failure(self) -> None:
        if self.fail_calls:
            code, message = self.fail_calls.pop(0)
            raise Refused(code, message, 200)


class AliyunSmsApi(FakeSmsApi):
    """SendSms (Dysmsapi 2017-05-25) signed with ACS3-HMAC-SHA256: canonical request = method, URI,
    sorted RFC 3986-encoded query, the signed headers (lower-case name:trimmed value), their names and
    the hex SHA-256 of the body; string to sign = "ACS3-HMAC-SHA256\\n" + hex SHA-256 of the canonical
    request; signature = hex HMAC-SHA256 with the AccessKey secret
    (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature). Business
    refusals come back as HTTP 200 with their ``Code``, as the SMS API does."""

    content_type = "application/json;charset=utf-8"
    per_call = 1000

    def handle(self, method, path, headers, body):
        pairs = self.verify_acs3(method, path, headers, body, {"host"})
        if (method, headers.get("x-acs-action"), headers.get("x-acs-version")) != ("POST", "SendSms", "2017-05-25"):
            raise Refused("InvalidAction.NotFound", "unexpected action")
        params = dict(pairs)
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
        numbers = params.get("PhoneNumbers", "").split(",")
        if len(numbers) > self.per_call:
            raise Refused("isv.MOBILE_COUNT_OVER_LIMIT", f"at most {self.per_call} numbers", 200)
        if not all(MAINLAND.match(n) for n in numbers) or self.bad_numbers & set(numbers):
            raise Refused("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号", 200)
        if not params.get("SignName") or not params.get("TemplateCode"):
            raise Refused("MissingParameter", "SignName and TemplateCode are required", 200)
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError as e:
            raise Refused("isv.INVALID_JSON_PARAM", "TemplateParam is no JSON", 200) from e
        self._call_failure()
        return {
            "numbers": numbers, "sign": params["SignName"], "template": params["TemplateCode"],
            "params": template_params, "biz_id": f"{len(self.accepted) + 1}^{uuid.uuid4().hex[:8]}",
        }

    def error(self, e):
        return e.status, {"RequestId": str(uuid.uuid4()), "Code": e.code, "Message": e.message}

    def success(self, call):
        return {"RequestId": str(uuid.uuid4()), "Code": "OK", "Message": "OK", "BizId": call["biz_id"]}


class TencentSmsApi(FakeSmsApi):
    """SendSms (SMS 2021-01-11) signed with TC3-HMAC-SHA256: canonical request = method, URI, query,
    the signed headers (lower-case name and value, trimmed), their names and the hex SHA-256 of the
    body; string to sign = algorithm, X-TC-Timestamp, date/sms/tc3_request and the hex SHA-256 of
    the canonical request; the key is derived HMAC by HMAC from "TC3" + SecretKey, the date, the
    service and "tc3_request" (https://cloud.tencent.com/document/api/382/52072). Errors come back with
    HTTP 200 and ``Response.Error``; per-number results in ``SendStatusSet``."""

    per_call = 200

    def handle(self, method, path, headers, body):
        self.verify_tc3(method, path, headers, body, "sms")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            raise Refused("InvalidAction", "unexpected action or version")
        params = json.loads(body)
        numbers = params.get("PhoneNumberSet") or []
        if len(numbers) > self.per_call:
            raise Refused("LimitExceeded.PhoneNumberCountLimit", f"at most {self.per_call} numbers a call")
        for key in ("SmsSdkAppId", "SignName", "TemplateId"):
            if not params.get(key):
                raise Refused("MissingParameter", f"{key} is required")
        if not all(isinstance(p, str) for p in params.get("TemplateParamSet") or []):
            raise Refused("InvalidParameterValue.TemplateParameterFormatError", "parameters are strings")
        self._call_failure()
        return {
            "numbers": [n.removeprefix("+86") for n in numbers], "e164": numbers, "app": params["SmsSdkAppId"],
            "sign": params["SignName"], "template": params["TemplateId"], "params": params.get("TemplateParamSet"),
        }

    def error(self, e):
        return 200, {"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": str(uuid.uuid4())}}

    def success(self, call):
        statuses = []
        for plain, number in zip(call["numbers"], call["e164"], strict=True):
            if plain in self.bad_numbers or not MAINLAND.match(plain):
                statuses.append({"SerialNo": "", "PhoneNumber": number, "Fee": 0, "SessionContext": "",
                                 "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "手机号格式错误", "IsoCode": "CN"})
            else:
                statuses.append({"SerialNo": uuid.uuid4().hex, "PhoneNumber": number, "Fee": 1, "SessionContext": "",
                                 "Code": "Ok", "Message": "send success", "IsoCode": "CN"})
        return {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}


VENDORS = {
    "aliyun": (AliyunSmsApi, "members.notify.aliyun.AliyunSmsBackend", {
        "ACCESS_KEY_ID": KEY_ID, "SIGN_NAME": "书苑", "TEMPLATE_CODE": "SMS_000001",
    }, "ACCESS_KEY_SECRET"),
    "tencent": (TencentSmsApi, "members.notify.tencent.TencentSmsBackend", {
        "SECRET_ID": KEY_ID, "SDK_APP_ID": "1400000001", "SIGN_NAME": "书苑", "TEMPLATE_ID": "100001",
    }, "SECRET_KEY"),
}


class Vendor:
    def __init__(self, name: str) -> None:
        self.name = name
        api_class, self.backend_path, self.base_options, self.secret_option = VENDORS[name]
        self.api: FakeSmsApi = api_class()
        self.per_call = api_class.per_call

    def options(self, secret: str = SECRET, **extra) -> dict:
        return {
            **self.base_options, self.secret_option: secret,
            "ENDPOINT": self.api.endpoint, "PROTOCOL": "http", "TIMEOUT": 5, **extra,
        }

    def notify_setting(self, secret: str = SECRET, **extra) -> dict:
        return {
            "email": {"BACKEND": "members.notify.email.EmailBackend"},
            "sms": {"BACKEND": self.backend_path, "OPTIONS": self.options(secret, **extra)},
        }
