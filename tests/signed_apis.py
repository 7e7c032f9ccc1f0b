"""Vendors' signed HTTP APIs on loopback ports, for the tests of the backends that call them through
the vendors' SDKs (Alibaba Cloud and Tencent Cloud: CDN purges in tests/deploy/test_cdn_cn.py, SMS in
tests/members/sms_servers.py).

A server checks every request as the vendor does before its subclass looks at the payload: it
recomputes the signature independently with the test's secret (Alibaba: ACS3-HMAC-SHA256, the V3
signature; Tencent: TC3-HMAC-SHA256), refuses a replayed nonce or a stale timestamp, records what it
received and answers in the vendor's format. Subclasses implement ``handle`` (verify with
``verify_acs3`` / ``verify_tc3``, then check and return the call), ``error`` and ``success``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class SignedApiServer:
    """A vendor's API on a loopback port: verifies, records and answers each POST."""

    content_type = "application/json"

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = dict(secrets)
        self.accepted: list[dict] = []
        self.refused: list[str] = []
        #: every request received: (path, headers, body)
        self.raw: list[tuple[str, dict, bytes]] = []
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

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> dict:
        raise NotImplementedError

    def error(self, e: Refused) -> tuple[int, dict]:
        raise NotImplementedError

    def success(self, call: dict) -> dict:
        raise NotImplementedError

    def post(self, path: str, headers: dict, body: bytes) -> dict:
        conn = http.client.HTTPConnection(self.endpoint, timeout=5)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        conn.request("POST", path, body=body, headers=headers)
        payload = json.loads(conn.getresponse().read())
        conn.close()
        return payload

    def replay(self, index: int, body: bytes | None = None, path: str | None = None, **headers: str) -> str:
        """Send recorded request ``index`` again (path, body or headers replaced if given): the error
        code the server answers, or "OK"."""
        old_path, sent, old_body = self.raw[index]
        sent = dict(sent)
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        payload = self.post(path or old_path, sent, old_body if body is None else body)
        payload = payload.get("Response", payload)
        if "Error" in payload:
            return payload["Error"]["Code"]
        return payload.get("Code") or "OK"

    def verify_acs3(self, method: str, path: str, headers: dict, body: bytes, must_sign: set[str]) -> list[tuple[str, str]]:
        """Alibaba Cloud's V3 signature (ACS3-HMAC-SHA256): canonical request = method, URI, sorted
        RFC 3986-encoded query, the signed headers (lower-case name:trimmed value), their names and the
        hex SHA-256 of the body; string to sign = "ACS3-HMAC-SHA256\\n" + hex SHA-256 of the canonical
        request; signature = hex HMAC-SHA256 with the AccessKey secret
        (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature).
        ``must_sign``: headers that must be signed besides every x-acs-* one. Returns the query pairs."""
        auth = headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
        if algorithm != "ACS3-HMAC-SHA256" or set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise Refused("IncompleteSignature", "malformed Authorization header")
        secret = self.secrets.get(fields["Credential"])
        if secret is None:
            raise Refused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        signed = fields["SignedHeaders"].split(";")
        must_sign = set(must_sign) | {h for h in headers if h.startswith("x-acs-")}
        if signed != sorted(signed) or not must_sign <= set(signed) or any(h not in headers for h in signed):
            raise Refused("IncompleteSignature", "a header that must be signed is not")
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
        return pairs

    def verify_tc3(self, method: str, path: str, headers: dict, body: bytes, service: str) -> None:
        """Tencent Cloud's signature v3 (TC3-HMAC-SHA256): canonical request = method, URI, query, the
        signed headers (lower-case name and value, trimmed), their names and the hex SHA-256 of the
        body; string to sign = algorithm, X-TC-Timestamp, date/service/tc3_request and the hex SHA-256
        of the canonical request; the key is derived HMAC by HMAC from "TC3" + SecretKey, the date, the
        service and "tc3_request" (https://cloud.tencent.com/document/api/382/52072)."""
        auth = headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        if algorithm != "TC3-HMAC-SHA256" or set(fields) != {"Credential", "SignedHeaders", "Signature"}:
            raise Refused("AuthFailure.InvalidAuthorization", "malformed Authorization header")
        secret_id, date, scope, terminator = (fields["Credential"].split("/") + ["", "", ""])[:4]
        secret = self.secrets.get(secret_id)
        if secret is None:
            raise Refused("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        signed = fields["SignedHeaders"].split(";")
        if not {"content-type", "host"} <= set(signed) or any(h not in headers for h in signed):
            raise Refused("AuthFailure.InvalidAuthorization", "content-type and host must be signed")
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            raise Refused("AuthFailure.SignatureExpire", "Signature expire.")
        if date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") or scope != service or terminator != "tc3_request":
            raise Refused("AuthFailure.InvalidAuthorization", "bad credential scope")
        url = urlsplit(path)
        canonical = "\n".join([
            method, url.path or "/", url.query,
            "".join(f"{h}:{headers[h].strip().lower()}\n" for h in signed),
            ";".join(signed), sha256(body),
        ])
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{date}/{service}/tc3_request", sha256(canonical.encode())])
        key = hmac_sha256(hmac_sha256(hmac_sha256(("TC3" + secret).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise Refused("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
