"""Secrecy invariant over generated page trees.

Random audiences, moves, unpublishes and republishes (seeded), each followed by an incremental publish
driven by the editors' signals; after every step the published site must hold exactly the public
pages (no members-only, internal, draft or unpublished page, in pages, listings, sitemaps or feeds),
and must equal what a full rebuild from scratch produces.
"""

from __future__ import annotations

import random

import pytest
from wagtail.models import Page

from cms.models import ArticlePage, ColumnPage
from cms.visibility import Audience, public_pages
from deploy.manifest import MANIFEST_PATH, Manifest
from deploy.service import publish
from deploy.targets import get_target
from tests.factories import ArticlePageFactory, ColumnPageFactory

from .test_publish import assert_consistent, site_paths


def check_invariant(target, tmp_path, step, compare_with_full=False):
    public = {p.pk: p for p in public_pages().filter(depth__gt=2)}
    everything = {p.pk: p for p in Page.objects.filter(depth__gt=2)}
    paths = site_paths(target)
    bodies = b"\n".join(target.read(p) for p in paths if p.endswith((".html", ".xml")))
    for pk, page in everything.items():
        url = page.specific.url
        if url is None:
            continue
        present = url.lstrip("/") + "index.html" in paths
        if pk in public:
            assert present, f"step {step}: public page {url} missing"
        else:
            assert not present, f"step {step}: non-public page {url} published"
            assert not any(p.startswith(url.lstrip("/")) for p in paths), f"step {step}: {url} subtree"
            assert f'"{url}"'.encode() not in bodies, f"step {step}: link to non-public {url}"
            assert page.title.encode() not in bodies, f"step {step}: title of non-public {url} leaked"
    assert_consistent(target)
    if not compare_with_full:
        return
    # incremental == full rebuild from scratch
    fresh = get_target(tmp_path / f"fresh-{step}")
    publish(full=True, target=fresh)
    inc = Manifest.from_bytes(target.read(MANIFEST_PATH)).entries
    full = Manifest.from_bytes(fresh.read(MANIFEST_PATH)).entries
    assert set(inc) == set(full), f"step {step}: {sorted(set(inc) ^ set(full))[:5]}"
    assert [p for p in inc if inc[p].sha256 != full[p].sha256] == [], f"step {step}"


@pytest.mark.parametrize("seed", [1, 2])
def test_bucket_equals_public_pages_after_random_changes(site, folder_target, tmp_path, seed):
    rng = random.Random(seed)
    counter = [0]

    def unique_title():
        counter[0] += 1
        return f"随机页面{seed}-{counter[0]}号"

    extra_col = ColumnPageFactory(parent=site.home, title=unique_title(), slug=f"col-{seed}")
    for col in (site.news, site.notices, extra_col):
        for _ in range(rng.randint(2, 4)):
            ArticlePageFactory(parent=col, title=unique_title(), audience=rng.choice(list(Audience)))
    publish(full=True, target=folder_target)
    check_invariant(folder_target, tmp_path, "initial")
    steps = 6
    for step in range(steps):
        articles = list(ArticlePage.objects.all())
        columns = list(ColumnPage.objects.all())
        action = rng.choice(["restrict", "unpublish", "move", "republish", "new"])
        a = rng.choice(articles)
        if action == "restrict":
            a.audience = rng.choice(list(Audience))
            a.save_revision().publish()
        elif action == "unpublish" and a.live:
            a.unpublish()
        elif action == "move":
            target_col = rng.choice([c for c in columns if c.pk != a.get_parent().pk])
            a.move(target_col, pos="last-child")
        elif action == "republish":
            a.title = unique_title()
            a.save_revision().publish()
        else:
            ArticlePageFactory(parent=rng.choice(columns), title=unique_title(), audience=rng.choice(list(Audience)))
        publish(target=folder_target)
        check_invariant(folder_target, tmp_path, f"{step}-{action}", compare_with_full=step == steps - 1)
