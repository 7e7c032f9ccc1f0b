"""Alibaba Cloud SMS and Tencent Cloud SMS on loopback ports, for the SMS backends' tests.

Like the CDN fakes (tests/deploy/test_cdn_cn.py), each server checks every request as the vendor
does before it answers in the vendor's format: it recomputes the signature independently with the
test's secret (Alibaba: ACS3-HMAC-SHA256, the V3 signature the SDK uses; Tencent: TC3-HMAC-SHA256),
refuses a replayed nonce or a stale timestamp, and checks the action, the numbers (mainland, at most
the API's per-call limit), the signature name, the template and its parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

KEY_ID = "LTAI5tShuyuanSmsKey"
SECRET = "shuyuan-sms-test-secret-0123456789"
MAINLAND = re.compile(r"^1[3-9]\d{9}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakeSmsApi:
    content_type = "application/json"

    def __init__(self) -> None:
        self.secrets = {KEY_ID: SECRET}
        self.accepted: list[dict] = []
        self.refused: list[str] = []
        self.raw: list[tuple[str, dict, bytes]] = []
        #: numbers the operator refuses (per-number errors where the API has them)
        self.bad_numbers: set[str] = set()
        #: an error for the next calls as a whole: (code, message)
        self.fail_calls: list[tuple[str, str]] = []
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with api._lock:
                    api.raw.append((self.path, dict(self.headers.items()), body))
                    try:
                        call = api.handle(self.command, self.path, headers, body)
                    except Refused as e:
                        api.refused.append(e.code)
                        status, payload = api.error(e)
                    else:
                        api.accepted.append(call)
                        status, payload = 200, api.success(call)
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", api.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)

    def numbers(self) -> list[str]:
        return [n for c in self.accepted for n in c["numbers"]]

    def post(self, path: str, headers: dict, body: bytes) -> dict:
        conn = http.client.HTTPConnection(self.endpoint, timeout=5)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        conn.request("POST", path, body=body, headers=headers)
        payload = json.loads(conn.getresponse().read())
        conn.close()
        return payload

    def replay(self, index: int, body: bytes | None = None, path: str | None = None, **headers: str) -> str:
        """Send recorded request ``index`` again (path, body or headers replaced if given): the error code, or "OK"."""
        old_path, sent, old_body = self.raw[index]
        sent = dict(sent)
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        payload = self.post(path or old_path, sent, old_body if body is None else body)
        payload = payload.get("Response", payload)
        if "Error" in payload:
            return payload["Error"]["Code"]
        return payload.get("Code") or "OK"

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
        auth = headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
        if algorithm != "ACS3-HMAC-SHA256" or set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise Refused("IncompleteSignature", "malformed Authorization header")
        secret = self.secrets.get(fields["Credential"])
        if secret is None:
            raise Refused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        signed = fields["SignedHeaders"].split(";")
        must_sign = {"host"} | {h for h in headers if h.startswith("x-acs-")}
        if signed != sorted(signed) or not must_sign <= set(signed) or any(h not in headers for h in signed):
            raise Refused("IncompleteSignature", "host and every x-acs-* header must be signed")
        if headers.get("x-acs-content-sha256") != sha256(body):
            raise Refused("IncompleteSignature", "x-acs-content-sha256 does not match the body")
        url = urlsplit(path)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))
        canonical = "\n".join([
            method, url.path or "/", query,
            "".join(f"{h}:{headers[h].strip()}\n" for h in signed),
            ";".join(signed), sha256(body),
        ])
        to_sign = "ACS3-HMAC-SHA256\n" + sha256(canonical.encode())
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise Refused("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        sent = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - sent) > timedelta(minutes=15):
            raise Refused("InvalidTimeStamp.Expired", "stale x-acs-date")
        if headers["x-acs-signature-nonce"] in self._nonces:
            raise Refused("SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(headers["x-acs-signature-nonce"])
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
        auth = headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        if algorithm != "TC3-HMAC-SHA256" or set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise Refused("AuthFailure.InvalidAuthorization", "malformed Authorization header")
        secret_id, date, service, terminator = (fields["Credential"].split("/") + ["", "", ""])[:4]
        secret = self.secrets.get(secret_id)
        if secret is None:
            raise Refused("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        signed = fields["SignedHeaders"].split(";")
        if not {"content-type", "host"} <= set(signed) or any(h not in headers for h in signed):
            raise Refused("AuthFailure.InvalidAuthorization", "content-type and host must be signed")
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            raise Refused("AuthFailure.SignatureExpire", "Signature expire.")
        if date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") or service != "sms" or terminator != "tc3_request":
            raise Refused("AuthFailure.InvalidAuthorization", "bad credential scope")
        url = urlsplit(path)
        canonical = "\n".join([
            method, url.path or "/", url.query,
            "".join(f"{h}:{headers[h].strip().lower()}\n" for h in signed),
            ";".join(signed), sha256(body),
        ])
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{date}/{service}/tc3_request", sha256(canonical.encode())])
        key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise Refused("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
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
