"""Token endpoints for app users: obtain, refresh, revoke, and who am I."""

from __future__ import annotations

import uuid

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cms import visibility

from .conf import api_setting
from .models import ACCESS_PREFIX, REFRESH_PREFIX, AppToken, digest
from .throttling import AuthRateThrottle
from .views import ApiViewMixin


def issue_pair(user, family: uuid.UUID | None = None, client: str = "") -> dict:
    family = family or uuid.uuid4()
    access_ttl, refresh_ttl = api_setting("ACCESS_TOKEN_TTL"), api_setting("REFRESH_TOKEN_TTL")
    _access, access_raw = AppToken.mint(user, AppToken.Kind.ACCESS, family, access_ttl, client)
    _refresh, refresh_raw = AppToken.mint(user, AppToken.Kind.REFRESH, family, refresh_ttl, client)
    return {
        "token_type": "Bearer",
        "access_token": access_raw,
        "expires_in": access_ttl,
        "refresh_token": refresh_raw,
        "refresh_expires_in": refresh_ttl,
    }


def revoke_family(family: uuid.UUID) -> int:
    return AppToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=timezone.now())


class StrictCharField(serializers.CharField):
    """A JSON string, as the schema says: DRF's CharField would also take a number and turn it into one,
    and would measure ``max_length`` after trimming whitespace, where the schema counts every character."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class ObtainSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=256, trim_whitespace=False)
    client = StrictCharField(max_length=120, required=False, allow_blank=True)
    # the code from the authenticator app (or a recovery code), for accounts with 2FA
    otp = StrictCharField(max_length=16, required=False, allow_blank=True)


class RefreshSerializer(serializers.Serializer):
    refresh_token = StrictCharField(max_length=128)


class RevokeSerializer(serializers.Serializer):
    token = StrictCharField(max_length=128)


class _TokenView(ApiViewMixin, APIView):
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    def validated(self, serializer_class, request):
        serializer = serializer_class(data=request.data)
        if not serializer.is_valid():
            problems = "; ".join(f"{field}: {' '.join(map(str, errs))}" for field, errs in serializer.errors.items())
            raise exceptions.ValidationError({"message": problems})
        return serializer.validated_data


class ObtainTokenView(_TokenView):
    """POST username and password, get an access token and a refresh token."""

    def post(self, request):
        data = self.validated(ObtainSerializer, request)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            # After too many failures django-axes answers instead: 429 {"message", "code": "locked"}
            # with Retry-After (cms.security.lockout.lockout_response).
            raise exceptions.AuthenticationFailed("Wrong username or password.")
        self.check_second_factor(request, user, data.get("otp", ""))
        return Response(issue_pair(user, client=data.get("client", "")))

    @staticmethod
    def check_second_factor(request, user, code: str) -> None:
        """An account with 2FA also needs ``otp``: 400 ``otp_required`` without it, 401
        ``otp_invalid`` (a failed login, counted towards the lockout) when it is wrong."""
        from cms.security import otp
        from cms.security.forms import record_recovery_code_used

        if not otp.has_2fa(user):
            return
        if not code:
            raise exceptions.ValidationError(
                {"message": "该账户已启用双重认证，请在 otp 字段提供动态验证码或恢复码。", "code": "otp_required"}
            )
        verified = otp.verify(user, code)
        if verified is None:
            user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=request._request
            )
            raise exceptions.AuthenticationFailed({"message": "动态验证码错误或已使用。", "code": "otp_invalid"})
        if verified.recovery_code:
            record_recovery_code_used(request._request, user)


class RefreshTokenView(_TokenView):
    """POST a refresh token, get a new pair; the refresh token presented stops working."""

    def post(self, request):
        raw = self.validated(RefreshSerializer, request)["refresh_token"]
        with transaction.atomic():
            token = (
                AppToken.objects.select_for_update()
                .select_related("user")
                .filter(key_digest=digest(raw), kind=AppToken.Kind.REFRESH)
                .first()
            )
            problem = self.problem(token)
            if problem is None:
                token.revoked_at = timezone.now()
                token.save(update_fields=["revoked_at"])
                # Older access tokens of the family stop working too: one live pair per session.
                AppToken.objects.filter(family=token.family, kind=AppToken.Kind.ACCESS, revoked_at__isnull=True).update(
                    revoked_at=timezone.now()
                )
                return Response(issue_pair(token.user, family=token.family, client=token.client))
            if token is not None and token.revoked_at is not None:
                # A rotated refresh token came back: someone else holds a copy. End the whole session.
                revoke_family(token.family)
        raise exceptions.AuthenticationFailed(problem)

    @staticmethod
    def problem(token) -> str | None:
        if token is None:
            return "Unknown refresh token."
        if token.revoked_at is not None:
            return "The refresh token was already used or revoked; sign in again."
        if not token.is_usable or not token.user.is_active:
            return "The refresh token has expired; sign in again."
        return None


class RevokeTokenView(_TokenView):
    """POST an access or refresh token: its whole session (family) is signed out. Always 200 for a
    well-formed request, so the endpoint can't be used to test which tokens exist."""

    def post(self, request):
        raw = self.validated(RevokeSerializer, request)["token"]
        if raw.startswith((ACCESS_PREFIX, REFRESH_PREFIX)):
            token = AppToken.objects.filter(key_digest=digest(raw)).first()
            if token is not None:
                revoke_family(token.family)
        return Response({"revoked": True})


class MeView(ApiViewMixin, APIView):
    """Who the access token belongs to and which audiences they may read."""

    def get(self, request):
        user = request.user
        if not user.is_authenticated:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <access token>'.")
        return Response(
            {
                "username": user.get_username(),
                "is_member": visibility.is_member(user),
                "audiences": sorted(visibility.audiences_for(user)),
            }
        )
