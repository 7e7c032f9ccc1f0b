"""A published site and a local publish folder for the secrecy review's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def folder_target(tmp_path, settings):
    from deploy.targets import get_target

    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "site"), "base_url": "/"},
    }}
    return get_target()


@pytest.fixture
def site(db, settings):
    from tests.factories import build_site

    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    settings.WAGTAILFRONTENDCACHE = {}
    settings.SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
    settings.SHUYUAN_SEARCH_RATE_LIMIT = (1000, 60)
    return build_site(n_articles=2)


@pytest.fixture
def reviewer(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("保密审查员", "r@example.org", "x-Long-pass-123")


@pytest.fixture
def author(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("采集员", "a@example.org", "x-Long-pass-123")
