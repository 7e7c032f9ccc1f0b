"""Second factor: TOTP (an authenticator app) with ten single-use recovery codes, on django-otp.

A user "has 2FA" when they own a confirmed device. Setting up creates an unconfirmed TOTP device that
becomes confirmed with a first correct code; the recovery codes are a django-otp StaticDevice whose
tokens are deleted as they are used. Every login path calls ``verify`` after the password matched.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
TOTP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


def has_2fa(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def is_required(user) -> bool:
    """Whether settings require this user to use a second factor (administrators, reviewers)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser and settings.SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS:
        return True
    groups = settings.SHUYUAN_OTP_REQUIRED_GROUPS
    if groups and user.groups.filter(name__in=groups).exists():
        return True
    return in_unit_role(user, getattr(settings, "SHUYUAN_OTP_REQUIRED_UNIT_ROLES", ()))


def in_unit_role(user, roles) -> bool:
    """Whether ``user`` is in one of ``roles`` ("reviewers", "admins", "editors") of any unit: the
    branches' reviewers approve and their administrators manage accounts, as the committee's do."""
    if not roles:
        return False
    from django.db.models import Q

    from cms.orgs.models import Organisation

    q = Q(pk=None)
    for role in roles:
        q |= Q(**{f"{role}_group__user": user})
    return Organisation.objects.filter(q).exists()


@dataclass(frozen=True)
class Verified:
    device: object
    recovery_code: bool


def verify(user, code: str) -> Verified | None:
    """The confirmed device that accepts ``code`` (a TOTP code, or a recovery code which is used up),
    or ``None``. django-otp's throttling applies: after failures a device refuses for a while."""
    code = "".join((code or "").split()).lower()
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, TOTPDevice) and not code.isdigit():
                continue
            if device.verify_token(code):
                return Verified(device, isinstance(device, StaticDevice))
    return None


def pending_totp(user) -> TOTPDevice:
    """The unconfirmed TOTP device being set up (created on first call; its secret stays the same
    until confirmed or discarded, so reloading the setup page shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode("ascii")


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no external service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")


def confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending device with its first code. Returns the new recovery codes (shown once), or
    None if the code is wrong. Any earlier TOTP device of the user is replaced."""
    code = "".join((code or "").split())
    if not code.isdigit() or not device.verify_token(code):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return regenerate_recovery_codes(device.user)


def regenerate_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the old ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def disable(user) -> int:
    """Remove every device of the user (TOTP and recovery codes). Returns how many were removed."""
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            count, _deleted = model.objects.filter(user=user).delete()
            removed += count
    return removed
