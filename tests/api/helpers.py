"""Clients and users for API tests."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client

from cms import visibility
from cms.api.auth import issue_pair


def make_user(username: str, *groups) -> object:
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    for group in groups:
        user.groups.add(group)
    return user


def token_for(user) -> str:
    return issue_pair(user)["access_token"]


class ApiClient(Client):
    """A test client that sends a bearer token (or none) with every request."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def request(self, **request):
        if self.token:
            request.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return super().request(**request)


def clients() -> dict[str, tuple[ApiClient, frozenset[str]]]:
    """anonymous, a signed-in non-member, a member and an internal-staff user, with their audiences."""
    members, internal = visibility.members_group(), visibility.internal_group()
    plain = make_user("plain")
    member = make_user("member", members)
    staff = make_user("staff", internal)
    public = frozenset({"public"})
    both = frozenset({"public", "members"})
    return {
        "anonymous": (ApiClient(), public),
        "non-member": (ApiClient(token_for(plain)), public),
        "member": (ApiClient(token_for(member)), both),
        "internal-staff": (ApiClient(token_for(staff)), both),
    }
