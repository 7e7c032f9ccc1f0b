"""The demo loader builds the whole tree from the seed articles, and re-running it is safe."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Page

from cms import visibility
from cms.demo.seeds import clean_line, load_seeds, parse_seed
from cms.models import ArticlePage, ExhibitionPage, RedExhibitionPage, StudyMaterialPage
from cms.visibility import Audience

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not present on this machine")


@needs_seeds
def test_traditional_seed_with_broken_encoding_stays_readable():
    seed = parse_seed(next(SEEDS.glob("002_*.txt")))
    text = "\n".join(seed.paragraphs)
    assert seed.title == "對黨建信息化建設的幾點思考"
    assert seed.date == "2019-08-14"
    assert "(shè)" not in text and "ㄒ" not in text and "┬" not in text
    assert "統一編碼、逐級授權、分級維護" in text


def test_cleaning_strips_pinyin_debris_and_never_fails():
    assert clean_line("建設(shè)開放統一的平臺(tái)") == "建設開放統一的平臺"
    assert clean_line("。ㄒ唬┬畔⒒脚_") == ""
    assert load_seeds(Path("/nonexistent")) == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_load_demo_builds_every_type_and_is_safe_to_rerun(capsys, settings):
    # Publishing the static site after each demo page is the deploy tests' business; here it would
    # only re-render the growing site once per page.
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}
    call_command("ensure_admin")
    call_command("load_demo")
    first = Page.objects.count()
    assert ArticlePage.objects.filter(locale__language_code="zh-hans").count() >= 5
    assert StudyMaterialPage.objects.filter(doc_number__contains="〔2025〕").exists()
    assert ExhibitionPage.objects.exists()
    provinces = set(RedExhibitionPage.objects.values_list("province", flat=True))
    assert len(provinces) >= 5
    if SEEDS.is_dir():
        assert ArticlePage.objects.filter(title="在信息化时代洪流中再立新功").exists()
    # restricted items exist and are restricted
    audiences = {visibility.audience_of(p) for p in ArticlePage.objects.filter(locale__language_code="zh-hans")}
    assert {Audience.PUBLIC, Audience.MEMBERS, Audience.INTERNAL} <= audiences
    # translations
    hant_home = Page.objects.get(locale__language_code="zh-hant", depth=2)
    assert hant_home.title == "書苑黨建工作平臺"
    assert Page.objects.filter(locale__language_code="en", depth=2, title="Shuyuan Party-Building Platform").exists()
    # 统一编码: a committee with two branches, each with its own editor, reviewer and pages
    from django.contrib.auth import get_user_model

    from cms.orgs.models import Organisation
    from cms.orgs.services import unit_of

    units = {u.code: u for u in Organisation.objects.all()}
    assert {"01", "0101", "0102"} <= set(units) and units["0101"].parent == units["01"]
    users = get_user_model().objects
    editor, editor2 = users.get(username="branch_editor"), users.get(username="branch2_editor")
    assert unit_of(editor) == units["0101"] and unit_of(editor2) == units["0102"]
    assert unit_of(users.get(username="branch2_reviewer")) == units["0102"]
    assert unit_of(users.get(username="reviewer")) == units["01"]
    own = units["0101"].root_page.get_children().first()
    sibling = units["0102"].root_page.get_children().first()
    assert own.permissions_for_user(editor).can_edit() and not own.permissions_for_user(editor).can_publish()
    assert not sibling.permissions_for_user(editor).can_edit()
    assert not editor.groups.filter(name__in=("编辑人员", "Editors")).exists()
    # every item has its editor (the dashboard's 各编辑稿件 has no （未知）): a branch's are its editor's
    from cms.dashboard import stats

    assert own.owner == editor and sibling.owner == editor2
    assert not [r for r in stats.manuscripts() if r["editor"] == stats.NO_EDITOR]
    # re-running creates nothing
    call_command("load_demo")
    assert Page.objects.count() == first
    assert "无需新建" in capsys.readouterr().out
    # scale option
    call_command("load_demo", "--pages", "30", "--no-translations")
    generated = Page.objects.filter(slug__startswith="gen-")
    assert generated.count() == 30
    assert Page.find_problems() == ([], [], [], [], [])  # the bulk-inserted tree is consistent
    from django.test import Client

    page = generated.last()
    assert Client().get(page.url, HTTP_HOST="localhost").status_code == 200
    call_command("load_demo", "--pages", "30", "--no-translations")
    assert generated.count() == 30


def test_production_settings_refuse_to_start_without_secrets(tmp_path):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='cms.settings.production'; django.setup()"
    env = {"PATH": "/usr/bin:/bin", "SHUYUAN_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_settings_require_a_database_url(tmp_path):
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='cms.settings.production'; django.setup()"
    base = {"PATH": "/usr/bin:/bin", "SHUYUAN_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "k3y-" + "abcdefghij" * 5,
            "DJANGO_ALLOWED_HOSTS": "example.org", "SHUYUAN_ADMIN_BASE_URL": "https://example.org",
            "SHUYUAN_API_BASE_URL": "https://example.org", "PUBLISH_BASE_URL": "https://www.example.org"}
    cwd = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=base, cwd=cwd)
    assert result.returncode != 0
    assert "DATABASE_URL is required" in result.stderr
    check = code + "; from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    env = {**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "journal_mode=WAL" in result.stdout
