"""The admin speaks Chinese to an account without a language preference, whatever the browser asks."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission


@pytest.fixture
def plain_editor(db):
    user = get_user_model().objects.create_user("plain", password="x-Long-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


def test_a_refusal_is_chinese_for_an_english_browser(plain_editor, client):
    client.force_login(plain_editor)
    response = client.get("/admin/users/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9", follow=True)
    html = response.content.decode()
    assert "Sorry, you do not have permission" not in html
    assert "没有权限" in html
    assert 'lang="zh-hans"' in html or 'lang="zh-Hans"' in html


def test_an_account_that_chose_english_keeps_it(plain_editor, client):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(plain_editor)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(plain_editor)
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in html
