"""Library documents are searchable on their own (``document:<pk>``, kind 文件), at the file's audience.

A file a live study material attaches is found through that material (its hit names the file and the
page); every other file with text is found by itself: unused, linked from an article's body, attached
to a draft. Negative cases first: anonymous callers never see a members-only, 内部, unused-and-following, secrecy-held,
classified or draft-page-only document, by a word only that file has, in hits, totals, facets or
suggestions, nor in the public search export (which stops when the publisher's own check disagrees);
members never see the 内部 ones. Then: an unused public PDF is found by anonymous with the page of the
PDF its words are on, a hit leading to the file's own download view; a members-only one by a member;
and the index follows the change feed when a file is replaced, re-classified or deleted, and when the
pages using a file change its audience (a restriction, a use dropped).
"""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.models import PageViewRestriction, ReferenceIndex

from cms import visibility
from cms.models import StudyMaterialAttachment
from media.audience import FileAudience
from media.models import ShuyuanDocument
from search import indexing
from search.backends.base import SearchQuery
from search.documents import (
    FILE_KIND,
    document_id,
    expected_ids,
    file_document_id,
    file_pk_of,
    page_id_of,
)
from search.loader import get_search_backend
from search.public.app import EventLog, PublicSearchApp
from search.public.bundle import PublicBundle
from search.public.export import PublicExportError, export_public_search
from tests.factories import StudyMaterialPageFactory, build_site
from tests.search.test_extractors import pdf_with_text

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
#: every file's title has it, so one query counts them all (totals and the kind facet)
COMMON = "资料汇编"
#: a word only that file has
WORDS = {
    "members": "翠柏",
    "internal": "紫藤",
    "unused_following": "苍梧",
    "held": "金桂",
    "classified": "丹枫",
    "draft_only": "银杏",
    "members_page": "玉兰",
    "public_page": "青松",
    "attached": "石榴",
}
HIDDEN_FROM_ANONYMOUS = (
    "members",
    "internal",
    "unused_following",
    "held",
    "classified",
    "draft_only",
    "members_page",
)
HIDDEN_FROM_MEMBERS = ("internal", "unused_following", "held", "classified", "draft_only")
#: an unused, explicitly public PDF: its token is on its second page
PDF_TOKEN = "qxpolicy2025"


def text_document(name: str, audience: str, word: str) -> ShuyuanDocument:
    document = ShuyuanDocument(title=f"{word}{COMMON}", audience=audience)
    document.file.save(
        f"{name}.txt", ContentFile(f"{word}的正文。本文件讲述{word}相关要求。".encode()), save=False
    )
    document.save()
    return document


def pdf_document(title: str, audience: str, pages: list[str]) -> ShuyuanDocument:
    document = ShuyuanDocument(title=title, audience=audience)
    document.file.save("policy.pdf", ContentFile(pdf_with_text(pages)), save=False)
    document.save()
    return document


def attach(page, document) -> None:
    StudyMaterialAttachment.objects.create(page=page, document=document)
    ReferenceIndex.create_or_update_for_object(page)


def link_in_body(page, document) -> None:
    """The article offers the file in its body (an 附件 block), as an editor would."""
    page.body = [("paragraph", "<p>正文</p>"), ("attachment", {"document": document, "title": "附件"})]
    page.save()
    ReferenceIndex.create_or_update_for_object(page)


@pytest.fixture
def library(db, settings):
    settings.SHUYUAN_SEARCH = IN_MEMORY
    settings.SHUYUAN_SEARCH_RATE_LIMIT = (1000, 60)
    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    settings.WAGTAILFRONTENDCACHE = {}
    cache.clear()
    site = build_site(n_articles=1)
    F = FileAudience
    files = {
        "members": text_document("members", F.MEMBERS, WORDS["members"]),
        "internal": text_document("internal", F.INTERNAL, WORDS["internal"]),
        "unused_following": text_document("following", F.FOLLOW, WORDS["unused_following"]),
        "held": text_document("held", F.PUBLIC, WORDS["held"]),
        "classified": text_document("classified", F.PUBLIC, WORDS["classified"]),
        "draft_only": text_document("draft", F.FOLLOW, WORDS["draft_only"]),
        "members_page": text_document("members-page", F.FOLLOW, WORDS["members_page"]),
        "public_page": text_document("public-page", F.FOLLOW, WORDS["public_page"]),
        "attached": text_document("attached", F.FOLLOW, WORDS["attached"]),
        "public_pdf": pdf_document(f"实施细则{COMMON}", F.PUBLIC, ["cover page", f"rules {PDF_TOKEN} apply"]),
    }
    ShuyuanDocument.objects.filter(pk=files["held"].pk).update(secrecy_hold=True)
    ShuyuanDocument.objects.filter(pk=files["classified"].pk).update(classification="internal")
    for name in ("held", "classified"):
        files[name].refresh_from_db()
    draft = StudyMaterialPageFactory(parent=site.library, title="草稿资料", live=False)
    attach(draft, files["draft_only"])
    link_in_body(site.members_article, files["members_page"])
    link_in_body(site.articles[0], files["public_page"])
    attach(site.materials[0], files["attached"])
    User = get_user_model()
    member = User.objects.create_user("member", password="pw")
    member.groups.add(visibility.members_group())
    indexing.rebuild()
    return site, files, member


def api(client, **params) -> dict:
    response = client.get("/api/v2/search/", {"page_size": 50, "locale": "zh-hans", **params})
    assert response.status_code == 200, response.content[:300]
    return response.json()


def ids_of(data) -> set[str]:
    return {hit["id"] for hit in data["results"]}


def file_ids(data) -> set[str]:
    """The library documents among the hits (a material page is found by its attachment's text too)."""
    return {i for i in ids_of(data) if file_pk_of(i) is not None}


# -- ids --------------------------------------------------------------------------------------------------
def test_page_and_file_ids_are_never_mistaken_for_each_other():
    assert page_id_of(file_document_id(7)) is None
    assert file_pk_of(document_id(7)) is None
    assert (page_id_of(document_id(7)), file_pk_of(file_document_id(7))) == (7, 7)
    assert file_document_id(7) != document_id(7)


# -- nothing restricted is found ------------------------------------------------------------------------
def test_anonymous_never_finds_a_restricted_document(library, client):
    _site, files, _member = library
    for name in HIDDEN_FROM_ANONYMOUS:
        data = api(client, q=WORDS[name])
        assert data["total"] == 0 and data["results"] == [], (name, data["results"])
        assert all(not values for values in data["facets"].values()), (name, data["facets"])
        suggestions = client.get("/api/v2/search/suggest/", {"q": WORDS[name]}).json()["suggestions"]
        assert not [s for s in suggestions if WORDS[name] in s], (name, suggestions)
    # one word every file's title has: the totals and the kind facet count the public files only
    data = api(client, q=COMMON)
    public = {file_document_id(files[n].pk) for n in ("public_pdf", "public_page")}
    # (the public material page that attaches a file is found by the attachment's title too)
    assert {i for i in ids_of(data) if file_pk_of(i) is not None} == public
    assert data["total"] == len(ids_of(data))
    assert dict((f["value"], f["count"]) for f in data["facets"]["kind"])[FILE_KIND] == 2
    text = json.dumps(data, ensure_ascii=False)
    for name in HIDDEN_FROM_ANONYMOUS:
        assert WORDS[name] not in text, name


def test_members_never_find_internal_held_or_draft_only_documents(library, client):
    _site, files, member = library
    client.force_login(member)
    for name in HIDDEN_FROM_MEMBERS:
        data = api(client, q=WORDS[name])
        assert data["total"] == 0, (name, data["results"])
    data = api(client, q=COMMON)
    assert {i for i in ids_of(data) if file_pk_of(i) is not None} == {
        file_document_id(files[n].pk) for n in ("public_pdf", "public_page", "members", "members_page")
    }


def test_the_public_export_holds_no_restricted_document(library, tmp_path):
    _site, files, _member = library
    export_public_search(tmp_path / "bundle")
    release = PublicBundle(tmp_path / "bundle").current()
    ids = release.engine.document_ids()
    hidden = {file_document_id(files[name].pk) for name in HIDDEN_FROM_ANONYMOUS}
    assert not ids & hidden
    # public and used by a public page: on the static site, so in its search
    assert file_document_id(files["public_page"].pk) in ids
    # public but used by no page: the static site does not carry the file, so its search leaves it out
    assert file_document_id(files["public_pdf"].pk) not in ids
    app = PublicSearchApp(PublicBundle(tmp_path / "bundle"), events=EventLog(io.StringIO()))
    for name in HIDDEN_FROM_ANONYMOUS:
        data = app_get(app, "/api/v2/search/", q=WORDS[name])
        assert data["total"] == 0, name
        assert not [
            s
            for s in app_get(app, "/api/v2/search/suggest/", q=WORDS[name])["suggestions"]
            if WORDS[name] in s
        ]
    assert file_document_id(files["public_page"].pk) in {
        h["id"] for h in app_get(app, "/api/v2/search/", q=WORDS["public_page"])["results"]
    }


def app_get(app, path: str, **query) -> dict:
    from tests.search.test_public_service import call

    status, _headers, data = call(app, path, query)
    assert status == 200, data
    return data


def test_the_export_stops_when_the_publishers_file_check_disagrees(library, tmp_path):
    _site, files, _member = library
    with mock.patch("deploy.checks._independently_public_files", return_value=set()):
        with pytest.raises(PublicExportError, match=file_document_id(files["public_page"].pk)):
            export_public_search(tmp_path / "bundle")


# -- found by those allowed ------------------------------------------------------------------------------
def test_an_unused_public_pdf_is_found_by_anonymous_with_its_page_number(library, client):
    _site, files, _member = library
    document = files["public_pdf"]
    data = api(client, q=PDF_TOKEN)
    assert [h["id"] for h in data["results"]] == [file_document_id(document.pk)]
    hit = data["results"][0]
    assert hit["kind"] == FILE_KIND and hit["title"] == document.title
    assert hit["page"] == 2 and hit["source"].endswith(".pdf")  # the page of the PDF the words are on
    assert "<mark>" in hit["snippet_html"]
    assert hit["url"] == document.url and hit["url"].startswith(f"/documents/{document.pk}/")
    assert hit["date"] == timezone.localtime(document.created_at).date().isoformat()
    # the link leads to the file, which anyone may fetch
    response = client.get(hit["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_members_only_document_is_found_by_a_member_and_its_link_stays_closed_to_others(library, client):
    _site, files, member = library
    document = files["members"]
    assert api(client, q=WORDS["members"])["total"] == 0
    assert client.get(document.url).status_code == 302  # anonymous: to the login page
    client.force_login(member)
    data = api(client, q=WORDS["members"])
    assert ids_of(data) == {file_document_id(document.pk)}
    assert client.get(data["results"][0]["url"]).status_code == 200


def test_the_members_page_shows_a_document_hit_with_its_label_link_and_page(library, client):
    _site, files, member = library
    client.force_login(member)
    response = client.get("/zh-hans/study/search/", {"q": PDF_TOKEN})
    assert response.status_code == 200
    html = response.content.decode()
    document = files["public_pdf"]
    assert "第 2 页" in html
    assert f"to=/documents/{document.pk}/" in html.replace("%2F", "/") and "%23page%3D2" in html
    assert '<span class="kind">文件</span>' in html
    # the kind facet is labelled too
    assert ">文件</a>" in html


def test_rebuild_and_check_include_documents(library):
    _site, files, _member = library
    expected = expected_ids()
    own = {file_document_id(f.pk) for name, f in files.items() if name != "attached"}
    assert own <= expected
    assert file_document_id(files["attached"].pk) not in expected  # its material carries it
    report = indexing.check()
    assert report.ok, (report.missing, report.stale)
    # a file without text has no search document of its own
    silent = ShuyuanDocument(title="无文字", audience=FileAudience.PUBLIC)
    silent.file.save("empty.txt", ContentFile(b"   \n"), save=False)
    silent.save()
    assert file_document_id(silent.pk) not in expected_ids()


# -- the index follows the change feed ------------------------------------------------------------------
def test_replacing_reclassifying_and_deleting_a_file_updates_the_index(library, client):
    _site, files, member = library
    document = files["public_pdf"]
    document.file.save("policy-v2.pdf", ContentFile(pdf_with_text(["cover", "newrule2026 only"])), save=False)
    document._set_file_hash()  # as Wagtail's edit view does when the file is replaced
    document.save()
    indexing.catch_up()
    assert api(client, q=PDF_TOKEN)["total"] == 0
    assert ids_of(api(client, q="newrule2026")) == {file_document_id(document.pk)}

    document.audience = FileAudience.MEMBERS
    document.save()
    indexing.catch_up()
    assert api(client, q="newrule2026")["total"] == 0
    client.force_login(member)
    assert ids_of(api(client, q="newrule2026")) == {file_document_id(document.pk)}

    gone = file_document_id(document.pk)
    document.delete()
    indexing.catch_up()
    assert api(client, q="newrule2026")["total"] == 0
    assert gone not in get_search_backend().document_ids()
    assert indexing.check().ok


def test_a_page_restriction_narrows_the_files_it_uses(library, client):
    site, files, _member = library
    word = WORDS["public_page"]
    assert file_ids(api(client, q=word)) == {file_document_id(files["public_page"].pk)}
    PageViewRestriction.objects.create(page=site.articles[0], restriction_type=PageViewRestriction.LOGIN)
    indexing.catch_up()
    assert not file_ids(api(client, q=word))  # the page became members-only, and so did its file
    members_only = get_search_backend().search(
        SearchQuery(q=word, audiences=frozenset({"public", "members"}))
    )
    assert [h.id for h in members_only.hits if file_pk_of(h.id)] == [
        file_document_id(files["public_page"].pk)
    ]


def test_a_page_that_drops_a_file_narrows_it(library, client):
    site, files, _member = library
    word = WORDS["public_page"]
    page = site.articles[0]
    page.body = [("paragraph", "<p>改写后的正文</p>")]
    page.save_revision().publish()  # the ReferenceIndex no longer names the file: unused and following, it is 内部
    indexing.catch_up()
    assert not file_ids(api(client, q=word))
    internal = get_search_backend().search(
        SearchQuery(q=word, audiences=frozenset({"public", "members", "internal"}))
    )
    assert [h.id for h in internal.hits if file_pk_of(h.id)] == [file_document_id(files["public_page"].pk)]


def test_a_newly_linked_file_widens_with_the_page_that_publishes_it(library, client):
    site, files, _member = library
    document = files["unused_following"]
    page = site.articles[0]
    page.body = [("paragraph", "<p>正文</p>"), ("attachment", {"document": document, "title": "新附件"})]
    page.save_revision().publish()
    indexing.catch_up()
    assert file_ids(api(client, q=WORDS["unused_following"])) == {file_document_id(document.pk)}


# -- a file a study material attaches is found through the material, once ------------------------------
def test_an_attached_file_is_found_through_its_material_with_its_page(library, client):
    site, files, _member = library
    data = api(client, q=WORDS["attached"])
    assert ids_of(data) == {document_id(site.materials[0].pk)}
    assert data["results"][0]["source"] == files["attached"].title


def test_attaching_and_unpublishing_move_a_file_between_its_material_and_its_own_hit(library, client):
    site, files, _member = library
    document = files["public_pdf"]
    material = site.materials[1]
    attach(material, document)
    indexing.catch_up()
    data = api(client, q=PDF_TOKEN)
    assert ids_of(data) == {document_id(material.pk)}  # the material carries its text now: one hit
    assert data["results"][0]["page"] == 2
    material.unpublish()
    indexing.catch_up()
    assert ids_of(api(client, q=PDF_TOKEN)) == {file_document_id(document.pk)}  # its own again


def test_a_file_more_restricted_than_its_material_is_found_on_its_own_by_those_who_may(library, client):
    """A 仅会员 PDF attached to a public material: the material's hit can't carry its text (the public
    would read it), so the file is a search document of its own, at its own audience."""
    site, files, member = library
    document, material = files["members"], site.materials[0]
    assert visibility.audience_of(material) == visibility.Audience.PUBLIC
    attach(material, document)
    indexing.catch_up()
    indexing.update_files([document.pk])
    assert api(client, q=WORDS["members"])["total"] == 0  # the public: neither the material nor the file
    client.force_login(member)
    assert ids_of(api(client, q=WORDS["members"])) == {file_document_id(document.pk)}
    # made public, the material carries it: one hit, the material's
    ShuyuanDocument.objects.filter(pk=document.pk).update(audience=FileAudience.PUBLIC)
    indexing.update_files([document.pk])
    indexing.update_pages([material.pk])
    client.logout()
    assert ids_of(api(client, q=WORDS["members"])) == {document_id(material.pk)}
