"""Users and login helpers shared by the security tests."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

PASSWORD = "Zhiyuan#2025x"  # passes the policy

ADMIN_LOGIN = "/admin/login/"
MEMBER_LOGIN = "/accounts/login/"
TOKEN = "/api/v2/auth/token/"
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


def make_user(username: str, *groups: str, staff: bool = False, superuser: bool = False):
    User = get_user_model()
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=staff or superuser)
    if superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    for name in groups:
        group, _created = Group.objects.get_or_create(name=name)
        if staff:
            group.permissions.add(
                Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
            )
        user.groups.add(group)
    return user


def login(
    client, path: str, username: str, password: str = PASSWORD, address: str = "10.0.0.1", otp=None, **meta
):
    """One login attempt on any of the three paths, from ``address`` (``meta``: more request headers)."""
    if path == TOKEN:
        body = {"username": username, "password": password, **({"otp": otp} if otp is not None else {})}
        return client.post(
            path, data=json.dumps(body), content_type="application/json", REMOTE_ADDR=address, **meta
        )
    data = {"username": username, "password": password, **({"otp_token": otp} if otp is not None else {})}
    return client.post(path, data, REMOTE_ADDR=address, **meta)


def logged_in(response, path: str) -> bool:
    """Whether the attempt logged in: a redirect away from a login page, or a token pair."""
    if path == TOKEN:
        return response.status_code == 200 and "access_token" in response.json()
    return response.status_code == 302
