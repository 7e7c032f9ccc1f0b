"""Password policy to 等保 level 3, as Django password validators, plus expiry and safe generation.

The validators run wherever Django or Wagtail validate a password: Wagtail's user create and edit
forms (an administrator setting someone's password), the account settings' password change, the
members' password change page, ``ensure_admin`` and the demo accounts. ``password_changed`` is called
by Django whenever a changed password is saved, which is how the history is kept.
"""

from __future__ import annotations

import os
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

SYMBOLS = set(string.punctuation) | {" "}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with its message in Chinese (Django 5.2 changed the English text, and its
    zh_Hans catalog still translates the old one)."""

    def get_error_message(self):
        return _("密码太短，至少需要 %(count)d 个字符。") % {"count": self.min_length}


def character_classes(password: str) -> int:
    """How many of the four classes (upper case, lower case, digits, symbols) the password uses."""
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() or c in SYMBOLS for c in password),
        )
    )


class CharacterClassesValidator:
    """At least ``min_classes`` of upper case, lower case, digits and symbols (any non-alphanumeric
    character, Chinese punctuation included)."""

    def __init__(self, min_classes: int = 3):
        if not 1 <= min_classes <= 4:
            raise ValueError("CharacterClassesValidator: min_classes must be between 1 and 4")
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号四类中的至少 %(count)d 类。"),
                code="password_too_simple",
                params={"count": self.min_classes},
            )

    def get_help_text(self):
        return _("密码须包含大写字母、小写字母、数字、符号四类中的至少 %(count)d 类。") % {
            "count": self.min_classes
        }


class PasswordHistoryValidator:
    """Not one of the user's last ``remember`` passwords. Their hashes (never the passwords) are kept
    in ``PasswordHistory``, recorded when Django reports a changed password."""

    def __init__(self, remember: int = 5):
        if remember < 1:
            raise ValueError("PasswordHistoryValidator: remember must be at least 1")
        self.remember = remember

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        from .models import PasswordHistory

        # The current password counts even when it was never recorded (``create_user`` stores a hash
        # without reporting a change).
        recorded = PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[
            : self.remember
        ]
        recent = list(dict.fromkeys([user.password, *recorded]))[: self.remember]
        for encoded in recent:
            if encoded and check_password(password, encoded):
                raise ValidationError(
                    _("不能使用最近 %(count)d 次用过的密码。"),
                    code="password_reused",
                    params={"count": self.remember},
                )

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        from .models import PasswordHistory

        PasswordHistory.objects.create(user=user, password=make_password(password))
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[self.remember :]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return _("不能使用最近 %(count)d 次用过的密码。") % {"count": self.remember}


def last_changed(user):
    """When the user's password was last set (``None`` if never recorded)."""
    from .models import PasswordHistory

    return PasswordHistory.objects.filter(user=user).values_list("created_at", flat=True).first()


def password_expired(user) -> bool:
    """True when ``SHUYUAN_PASSWORD_MAX_AGE_DAYS`` is on and the password is older than that. A user
    with no recorded change is measured from when they joined."""
    max_age = settings.SHUYUAN_PASSWORD_MAX_AGE_DAYS
    if not max_age or not user.is_authenticated or not user.has_usable_password():
        return False
    changed = last_changed(user) or user.date_joined
    return timezone.now() - changed > timedelta(days=max_age)


def generate_password(user=None, length: int = 16) -> str:
    """A random password that passes the policy: every character class, from an alphabet without
    look-alikes (0/O, 1/l/I), checked with the configured validators."""
    classes = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%+-=@^_"]
    alphabet = "".join(classes)
    while True:
        chars = [secrets.choice(c) for c in classes] + [
            secrets.choice(alphabet) for _ in range(length - len(classes))
        ]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password


def from_environment(variable: str, user=None) -> tuple[str, bool]:
    """The password the environment variable gives, checked against the policy, or a generated one.
    Returns ``(password, generated)``; raises ``ValidationError`` naming the variable when the given
    password is too weak, so start-up scripts stop with a message saying what to fix."""
    given = os.environ.get(variable)
    if given:
        check_policy(given, user, setting=variable)
        return given, False
    return generate_password(user), True


def check_policy(password: str, user=None, setting: str = "") -> None:
    """Refuse a configured password that fails the policy, naming where it came from."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        problems = " ".join(exc.messages)
        message = (
            _("%(setting)s 不符合密码策略：%(problems)s")
            if setting
            else _("密码不符合密码策略：%(problems)s")
        )
        raise ValidationError(message % {"setting": setting, "problems": problems}) from exc
