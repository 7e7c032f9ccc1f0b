"""统一编码·逐级授权·分级维护: units own a subtree, a collection and three scoped groups.

Negative tests first: what a branch's accounts must not be able to do in a sibling branch.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from wagtail.documents import get_document_model
from wagtail.models import Collection, Page
from wagtail.permissions import policy_registry

from cms.audit.roles import SYSTEM_ADMINS, can_grant_group, ensure_roles
from cms.orgs.models import Organisation
from cms.orgs.services import create_unit, may_manage_user, unit_of, units_managed_by, user_scope
from cms.orgs.signals import unit_created
from tests.factories import ArticlePageFactory, build_site

User = get_user_model()


class _DocumentPolicy:
    def __getattr__(self, name):
        return getattr(policy_registry.get_by_type(get_document_model()), name)


document_policy = _DocumentPolicy()


@pytest.fixture
def units(db):
    tree = build_site(n_articles=1)
    committee = create_unit("01", "示范党委", root_page=tree.home)
    one = create_unit("0101", "第一支部", parent=committee, publish=True)
    two = create_unit("0102", "第二支部", parent=committee, publish=True)

    def member(username, group):
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(group)
        return user

    class U:
        pass

    u = U()
    u.tree, u.committee, u.one, u.two = tree, committee, one, two
    u.editor1 = member("editor1", one.editors_group)
    u.reviewer1 = member("reviewer1", one.reviewers_group)
    u.admin1 = member("admin1", one.admins_group)
    u.editor2 = member("editor2", two.editors_group)
    u.committee_reviewer = member("creviewer", committee.reviewers_group)
    u.article1 = ArticlePageFactory(parent=one.root_page.specific)
    u.article2 = ArticlePageFactory(parent=two.root_page.specific)
    return u


# --- refused ---------------------------------------------------------------------------------


def test_a_branch_editor_cannot_edit_or_publish_in_a_sibling_branch(units, client):
    perms = units.article2.permissions_for_user(units.editor1)
    assert not perms.can_edit() and not perms.can_publish()
    assert not units.two.root_page.permissions_for_user(units.editor1).can_add_subpage()
    # nor anywhere outside the unit (the old root-wide 支部编辑 rights are gone)
    assert not units.tree.articles[0].permissions_for_user(units.editor1).can_edit()
    client.force_login(units.editor1)
    response = client.get(f"/admin/pages/{units.article2.pk}/edit/")
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or response["Location"] != f"/admin/pages/{units.article2.pk}/edit/"
    response = client.post(f"/admin/pages/{units.article2.pk}/edit/", {"title": "改", "action-publish": "1"})
    assert response.status_code in (302, 403)
    units.article2.refresh_from_db()
    assert units.article2.title != "改"


def test_a_branch_editor_cannot_publish_even_in_its_own_branch(units):
    perms = units.article1.permissions_for_user(units.editor1)
    assert perms.can_edit() and not perms.can_publish()


def test_a_branch_editor_cannot_file_documents_in_a_sibling_collection(units):
    allowed = document_policy.collections_user_has_permission_for(units.editor1, "add")
    assert units.one.collection in allowed and units.two.collection not in allowed


def test_a_branch_administrator_cannot_grant_powers_it_lacks(units):
    admin = units.admin1
    assert not can_grant_group(admin, units.two.editors_group)  # a sibling's
    assert not can_grant_group(admin, units.committee.reviewers_group)  # the committee's
    assert not can_grant_group(admin, units.committee.admins_group)
    ensure_roles()
    assert not can_grant_group(admin, Group.objects.get(name=SYSTEM_ADMINS))  # 三员 stay separate
    assert can_grant_group(admin, units.one.editors_group)


def test_a_branch_administrator_cannot_manage_a_siblings_users(units, client):
    admin = units.admin1
    assert not may_manage_user(admin, units.editor2)
    assert set(user_scope(admin)) == {units.editor1, units.reviewer1, units.admin1}
    client.force_login(admin)
    response = client.get(f"/admin/users/edit/{units.editor2.pk}/")
    assert response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")
    listing = client.get("/admin/users/")
    assert listing.status_code == 200
    assert b"editor2" not in listing.content and b"editor1" in listing.content
    # a crafted POST giving a sibling's group to one's own editor is refused
    response = client.post(
        f"/admin/users/edit/{units.editor1.pk}/",
        {"username": "editor1", "groups": [units.one.editors_group.pk, units.two.reviewers_group.pk]},
    )
    assert not units.editor1.groups.filter(pk=units.two.reviewers_group.pk).exists()
    assert response.status_code in (200, 302)


def test_a_branch_administrator_adds_its_own_units_roles(units, client):
    client.force_login(units.admin1)
    response = client.get(f"/admin/users/edit/{units.editor1.pk}/")
    assert response.status_code == 200
    offered = set(response.context["form"].fields["groups"].queryset)
    assert offered == {units.one.editors_group, units.one.reviewers_group, units.one.admins_group}


def test_codes_are_unique_and_hierarchical(units):
    with pytest.raises(ValidationError):
        create_unit("0201", "错挂支部", parent=units.committee)  # does not start with 01
    with pytest.raises(ValidationError):
        create_unit("010101", "隔级支部", parent=units.committee)  # skips a level
    with pytest.raises(ValidationError):
        create_unit("1", "坏编码")
    with pytest.raises(ValidationError):
        create_unit("0101", "重复", parent=units.committee)
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(code="0102", name="重复")


def test_create_unit_rolls_back_everything_on_failure(units):
    counts = (
        Organisation.objects.count(),
        Group.objects.count(),
        Collection.objects.count(),
        Page.objects.count(),
    )

    def boom(sender, unit, **kwargs):
        raise RuntimeError("下游失败")

    unit_created.connect(boom, dispatch_uid="test-boom")
    try:
        with pytest.raises(RuntimeError):
            create_unit("0103", "第三支部", parent=units.committee)
    finally:
        unit_created.disconnect(dispatch_uid="test-boom")
    assert (
        Organisation.objects.count(),
        Group.objects.count(),
        Collection.objects.count(),
        Page.objects.count(),
    ) == counts


def test_the_command_refuses_an_unknown_parent(units):
    with pytest.raises(CommandError):
        call_command("create_unit", "0901", "无主支部", "--parent", "09")


# --- allowed ---------------------------------------------------------------------------------


def test_create_unit_makes_subtree_collection_and_groups_in_one_step(units):
    received = []
    unit_created.connect(
        lambda sender, unit, **kw: received.append(unit), dispatch_uid="test-seen", weak=False
    )
    try:
        call_command("create_unit", "0103", "第三支部", "--parent", "01")
    finally:
        unit_created.disconnect(dispatch_uid="test-seen")
    unit = Organisation.objects.get(code="0103")
    assert received == [unit]
    assert unit.parent == units.committee and not unit.is_top() and unit.top() == units.committee
    assert unit.root_page.get_parent().pk == units.tree.home.pk and unit.root_page.title == "第三支部"
    assert unit.collection.get_parent() == units.committee.collection
    assert [g.name for g in unit.groups()] == ["第三支部·编辑", "第三支部·审核", "第三支部·管理员"]
    assert list(units.committee.descendants(include_self=False)) == [units.one, units.two, unit]
    assert list(unit.ancestors()) == [units.committee]


def test_reviewers_edit_in_their_branch_and_nobody_in_a_unit_publishes_past_the_workflow(units):
    assert units.article1.permissions_for_user(units.reviewer1).can_edit()
    assert not units.article2.permissions_for_user(units.reviewer1).can_edit()
    for article in (units.article1, units.article2):
        assert article.permissions_for_user(units.committee_reviewer).can_edit()
        for user in (units.reviewer1, units.committee_reviewer):
            assert not article.permissions_for_user(user).can_publish()  # only the workflow publishes


def test_unit_of_and_units_managed_by(units):
    assert unit_of(units.editor1) == units.one
    assert unit_of(units.committee_reviewer) == units.committee
    assert list(units_managed_by(units.admin1)) == [units.one]
    assert list(units_managed_by(units.editor1)) == []


def test_a_document_in_a_branch_collection_is_the_branch_editors(units):
    Document = get_document_model()
    doc = Document(title="支部文件", collection=units.one.collection)
    assert document_policy.user_has_permission_for_instance(units.editor1, "change", doc) is not None


def test_default_names_are_chinese(db):
    assert not Group.objects.filter(name__in=["Editors", "Moderators"]).exists()
    assert Page.get_first_root_node().title == "根目录"
    assert Collection.get_first_root_node().name == "根目录"


def test_the_admin_lists_units_by_code_and_creates_one_in_one_step(units, client):
    client.force_login(User.objects.create_superuser("boss", "", "pw"))
    listing = client.get("/admin/organisations/")
    assert listing.status_code == 200
    content = listing.content.decode()
    assert content.index("第一支部") < content.index("第二支部")
    refused = client.post(
        "/admin/organisations/new/", {"code": "0299", "name": "错挂", "parent": units.committee.pk}
    )
    assert refused.status_code == 200 and not Organisation.objects.filter(code="0299").exists()
    response = client.post(
        "/admin/organisations/new/", {"code": "0103", "name": "第三支部", "parent": units.committee.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    unit = Organisation.objects.get(code="0103")
    assert unit.root_page and unit.collection and unit.editors_group.name == "第三支部·编辑"
    assert client.get(f"/admin/organisations/edit/{unit.pk}/").status_code == 200


def test_a_branch_editor_does_not_reach_the_units_admin(units, client):
    client.force_login(units.editor1)
    response = client.get("/admin/organisations/new/")
    assert response.status_code in (302, 403)
    assert not Organisation.objects.filter(code="0103").exists()


def test_the_model_guards_refuse_a_branch_administrator_outside_its_units(units, rf):
    """The paths no form covers (bulk actions, other code in a request) are refused too."""
    from cms.audit import context
    from cms.audit.roles import EscalationRefused

    request = rf.get("/admin/")
    request.user = units.admin1
    token = context._current.set(request)
    try:
        with pytest.raises(EscalationRefused), transaction.atomic():
            units.editor2.groups.add(units.one.editors_group)  # a sibling's account
        with pytest.raises(EscalationRefused), transaction.atomic():
            units.editor1.groups.add(units.two.editors_group)  # a sibling's group
        newcomer = User.objects.create_user("newcomer", password="pw")
        newcomer.groups.add(units.one.editors_group)  # a new account joins the own unit
    finally:
        context._current.reset(token)
    assert not units.editor2.groups.filter(pk=units.one.editors_group.pk).exists()
    assert unit_of(newcomer) == units.one


def test_a_unit_below_a_branch_gets_its_own_subtree_inside_the_branch(units):
    """统一编码 goes on down: 010101 under 0101 owns a column inside 0101's column."""
    lower = create_unit("010101", "第一党小组", parent=units.one, publish=True)
    assert lower.root_page.get_parent().pk == units.one.root_page.pk
    assert lower.collection.get_parent().pk == units.one.collection.pk
    assert units.one.admins_group in units.one.groups() and lower in units.one.descendants(include_self=False)


def test_a_branch_editor_cannot_edit_a_siblings_translation_but_edits_its_own(units):
    """The unit's subtree in zh-hant and en is the unit's too; a sibling's translation is not."""
    from wagtail.models import Locale

    hant = Locale.objects.get_or_create(language_code="zh-hant")[0]
    units.tree.home.copy_for_translation(hant)
    one_hant = units.one.root_page.specific.copy_for_translation(hant)
    two_hant = units.two.root_page.specific.copy_for_translation(hant)
    article2_hant = units.article2.copy_for_translation(hant)
    assert not article2_hant.permissions_for_user(units.editor1).can_edit()
    assert not two_hant.permissions_for_user(units.editor1).can_add_subpage()
    assert one_hant.permissions_for_user(units.editor1).can_add_subpage()
    assert article2_hant.permissions_for_user(units.editor2).can_edit()
    assert not article2_hant.permissions_for_user(units.editor2).can_publish()


def test_a_translation_made_after_the_unit_exists_belongs_to_the_unit(units):
    from wagtail.models import Locale

    hant = Locale.objects.get_or_create(language_code="zh-hant")[0]
    units.tree.home.copy_for_translation(hant)
    one_hant = units.one.root_page.specific.copy_for_translation(hant)
    below = create_unit("010101", "第一党小组", parent=units.one, root_page=units.article1)
    user = User.objects.create_user("grp1", password="pw", is_staff=True)
    user.groups.add(below.editors_group)
    article1_hant = units.article1.copy_for_translation(hant)
    assert article1_hant.permissions_for_user(user).can_edit()
    assert not one_hant.permissions_for_user(user).can_edit()


def test_unit_reviewers_and_administrators_need_a_second_factor_and_editors_do_not(units, settings):
    from cms.security.otp import is_required

    settings.SHUYUAN_OTP_REQUIRED_GROUPS = []
    settings.SHUYUAN_OTP_REQUIRED_UNIT_ROLES = ["reviewers", "admins"]
    assert is_required(units.reviewer1) and is_required(units.admin1) and is_required(units.committee_reviewer)
    assert not is_required(units.editor1)
    settings.SHUYUAN_OTP_REQUIRED_UNIT_ROLES = []
    assert not is_required(units.reviewer1)


def test_a_unit_created_after_its_page_was_translated_gets_the_translation(units):
    from wagtail.models import Locale

    hant = Locale.objects.get_or_create(language_code="zh-hant")[0]
    units.tree.home.copy_for_translation(hant)
    units.one.root_page.specific.copy_for_translation(hant)
    article1_hant = units.article1.copy_for_translation(hant)
    below = create_unit("010101", "第一党小组", parent=units.one, root_page=units.article1)
    user = User.objects.create_user("grp1", password="pw", is_staff=True)
    user.groups.add(below.editors_group)
    assert article1_hant.permissions_for_user(user).can_edit()
    assert not units.article2.permissions_for_user(user).can_edit()


def test_an_unknown_unit_role_for_the_second_factor_fails_at_start_up(settings):
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    settings.SHUYUAN_OTP_REQUIRED_UNIT_ROLES = ["reviewer"]
    with pytest.raises(ImproperlyConfigured, match="reviewer"):
        apps.get_app_config("security").ready()
