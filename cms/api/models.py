"""Bearer tokens for app users.

A login creates a *family*: one refresh token and the access tokens minted from it. Refreshing rotates
the refresh token (the old one stops working); presenting a refresh token that was already rotated
means it leaked, so the whole family is revoked. Only SHA-256 digests are stored, never the tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACCESS_PREFIX = "sya_"
REFRESH_PREFIX = "syr_"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AppTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class AppToken(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("访问令牌")
        REFRESH = "refresh", _("刷新令牌")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_tokens")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    key_digest = models.CharField(max_length=64, unique=True)
    client = models.CharField(_("客户端"), max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AppTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("应用令牌")
        verbose_name_plural = _("应用令牌")
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self):
        return f"{self.kind} token of {self.user_id} ({self.family})"

    @classmethod
    def mint(cls, user, kind: str, family: uuid.UUID, ttl: int, client: str = "") -> tuple[AppToken, str]:
        prefix = ACCESS_PREFIX if kind == cls.Kind.ACCESS else REFRESH_PREFIX
        raw = prefix + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            kind=kind,
            family=family,
            key_digest=digest(raw),
            client=client[:120],
            expires_at=timezone.now() + timedelta(seconds=ttl),
        )
        return token, raw

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ContentVersion(models.Model):
    """One row whose token changes on every edit that can alter what a caller may list.

    Cached listing facts (counts, id windows, visible image ids) are keyed by this token. It lives in
    the database so that every server process sees a change at once, and a rolled-back transaction
    rolls the token back with the data it describes.
    """

    token = models.CharField(max_length=32, default="")

    class Meta:
        verbose_name = _("内容版本")

    def __str__(self):
        return self.token

    @classmethod
    def current(cls) -> str:
        return cls.objects.filter(pk=1).values_list("token", flat=True).first() or ""

    @classmethod
    def bump(cls) -> None:
        token = uuid.uuid4().hex
        if not cls.objects.filter(pk=1).update(token=token):
            cls.objects.update_or_create(pk=1, defaults={"token": token})
