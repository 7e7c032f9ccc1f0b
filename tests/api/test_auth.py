"""Token authentication for app users: obtain, use, refresh (rotating), revoke."""

import json

from django.test import TestCase, override_settings

from cms import visibility
from cms.api.models import AppToken

from .helpers import ApiClient, make_user

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


def post(client, url, data):
    response = client.post(url, data=json.dumps(data), content_type="application/json")
    return response.status_code, json.loads(response.content)


@override_settings(SHUYUAN_API=NO_LIMITS)
class TokenFlowTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.member = make_user("alice", visibility.members_group())
        cls.plain = make_user("bob")

    def obtain(self, username="alice"):
        status, data = post(ApiClient(), "/api/v2/auth/token/", {"username": username, "password": f"pw-{username}"})
        self.assertEqual(status, 200, data)
        return data

    def test_obtain_and_use(self):
        data = self.obtain()
        self.assertEqual(data["token_type"], "Bearer")
        self.assertTrue(data["access_token"].startswith("sya_"))
        self.assertTrue(data["refresh_token"].startswith("syr_"))
        me = ApiClient(data["access_token"]).get("/api/v2/auth/me/")
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json(), {"username": "alice", "is_member": True, "audiences": ["members", "public"]})
        # Only digests are stored.
        self.assertFalse(AppToken.objects.filter(key_digest=data["access_token"]).exists())

    def test_non_member_is_not_a_member(self):
        data = self.obtain("bob")
        self.assertEqual(ApiClient(data["access_token"]).get("/api/v2/auth/me/").json()["audiences"], ["public"])

    def test_wrong_password_and_bad_payload(self):
        status, data = post(ApiClient(), "/api/v2/auth/token/", {"username": "alice", "password": "nope"})
        self.assertEqual(status, 401)
        self.assertIn("message", data)
        status, data = post(ApiClient(), "/api/v2/auth/token/", {"username": "alice"})
        self.assertEqual(status, 400)
        self.assertIn("password", data["message"])

    def test_bad_tokens_are_refused_not_ignored(self):
        for header in ("Bearer sya_nonsense", "Bearer", "Bearer a b", "Bearer syr_refresh-is-not-access"):
            response = ApiClient().get("/api/v2/pages/", HTTP_AUTHORIZATION=header)
            self.assertEqual(response.status_code, 401, header)
            self.assertIn("message", response.json())
        self.assertEqual(ApiClient().get("/api/v2/auth/me/").status_code, 401)

    def test_refresh_rotates_and_reuse_revokes_the_session(self):
        first = self.obtain()
        status, second = post(ApiClient(), "/api/v2/auth/token/refresh/", {"refresh_token": first["refresh_token"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(second["access_token"], first["access_token"])
        # The old access token of the session stopped working, the new one works.
        self.assertEqual(ApiClient(first["access_token"]).get("/api/v2/auth/me/").status_code, 401)
        self.assertEqual(ApiClient(second["access_token"]).get("/api/v2/auth/me/").status_code, 200)
        # Replaying the rotated refresh token revokes the whole session.
        status, _ = post(ApiClient(), "/api/v2/auth/token/refresh/", {"refresh_token": first["refresh_token"]})
        self.assertEqual(status, 401)
        self.assertEqual(ApiClient(second["access_token"]).get("/api/v2/auth/me/").status_code, 401)
        status, _ = post(ApiClient(), "/api/v2/auth/token/refresh/", {"refresh_token": second["refresh_token"]})
        self.assertEqual(status, 401)

    def test_revoke(self):
        data = self.obtain()
        status, body = post(ApiClient(), "/api/v2/auth/token/revoke/", {"token": data["access_token"]})
        self.assertEqual((status, body), (200, {"revoked": True}))
        self.assertEqual(ApiClient(data["access_token"]).get("/api/v2/auth/me/").status_code, 401)
        status, _ = post(ApiClient(), "/api/v2/auth/token/refresh/", {"refresh_token": data["refresh_token"]})
        self.assertEqual(status, 401)
        # Unknown tokens get the same answer (no oracle).
        self.assertEqual(post(ApiClient(), "/api/v2/auth/token/revoke/", {"token": "sya_unknown"})[0], 200)
        # Longer than the schema's 128 characters is refused even when whitespace pads it (found by schemathesis).
        self.assertEqual(post(ApiClient(), "/api/v2/auth/token/revoke/", {"token": "\n" + "x" * 128})[0], 400)

    @override_settings(SHUYUAN_API={"ACCESS_TOKEN_TTL": -1, **NO_LIMITS})
    def test_expired_access_token(self):
        data = self.obtain()
        self.assertEqual(ApiClient(data["access_token"]).get("/api/v2/auth/me/").status_code, 401)

    def test_disabled_user(self):
        data = self.obtain()
        type(self.member).objects.filter(pk=self.member.pk).update(is_active=False)
        self.assertEqual(ApiClient(data["access_token"]).get("/api/v2/pages/").status_code, 401)


@override_settings(SHUYUAN_API={"RATE_LIMITS": {"anon": "3/min", "user": "5/min", "auth": "2/min"}})
class RateLimitTests(TestCase):
    def setUp(self):
        from django.core.cache import cache

        cache.clear()

    def test_anonymous_clients_are_limited_per_ip(self):
        statuses = [ApiClient().get("/api/v2/pages/").status_code for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        response = ApiClient().get("/api/v2/documents/")
        self.assertEqual(response.status_code, 429)
        self.assertIn("Retry-After", response)
        self.assertIn("message", response.json())
        # Another address has its own budget.
        self.assertEqual(ApiClient().get("/api/v2/pages/", REMOTE_ADDR="10.0.0.9").status_code, 200)

    def test_token_endpoint_is_limited(self):
        statuses = [
            ApiClient().post("/api/v2/auth/token/", {"username": "x", "password": "y"}).status_code for _ in range(3)
        ]
        self.assertEqual(statuses, [401, 401, 429])


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.org"], SHUYUAN_API=NO_LIMITS)
class CorsTests(TestCase):
    def test_allowed_origin(self):
        response = ApiClient().get("/api/v2/pages/", HTTP_ORIGIN="https://app.example.org")
        self.assertEqual(response["Access-Control-Allow-Origin"], "https://app.example.org")
        preflight = ApiClient().options(
            "/api/v2/pages/",
            HTTP_ORIGIN="https://app.example.org",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
        )
        self.assertIn("authorization", preflight["Access-Control-Allow-Headers"])

    def test_other_origin(self):
        response = ApiClient().get("/api/v2/pages/", HTTP_ORIGIN="https://evil.example.com")
        self.assertNotIn("Access-Control-Allow-Origin", response)


@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_LOGIN_FAILURE_LIMIT=3)
class TokenEndpointAnswersTests(TestCase):
    """The token endpoint answers only what the schema says: strings where it says strings, and the
    lockout after repeated failures as the documented JSON 429 with Retry-After."""

    @classmethod
    def setUpTestData(cls):
        cls.member = make_user("carol", visibility.members_group())

    def test_numbers_are_not_accepted_as_strings(self):
        for body in ({"username": 123, "password": "pw-carol"}, {"username": "carol", "password": 1234}):
            status, data = post(ApiClient(), "/api/v2/auth/token/", body)
            self.assertEqual(status, 400, body)
            self.assertIn("message", data)
        status, data = post(ApiClient(), "/api/v2/auth/token/revoke/", {"token": -13291})
        self.assertEqual(status, 400)

    def test_lockout_is_the_documented_json_429(self):
        from cms.api.views import committed_schema

        documented = committed_schema()["paths"]["/api/v2/auth/token/"]["post"]["responses"]
        self.assertIn("429", documented)
        statuses = [
            post(ApiClient(), "/api/v2/auth/token/", {"username": "carol", "password": "wrong"})[0] for _ in range(3)
        ]
        self.assertEqual(statuses, [401, 401, 429])  # the failure that reaches the limit locks
        response = ApiClient().post(
            "/api/v2/auth/token/", data=json.dumps({"username": "carol", "password": "pw-carol"}),
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 429)  # the right password, too late
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertEqual(response.json()["code"], "locked")
        self.assertIsInstance(response.json()["message"], str)
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        self.assertIn("no-store", response["Cache-Control"])
