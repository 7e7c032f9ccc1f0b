"""Creating units and asking which unit a user belongs to (统一编码·逐级授权·分级维护).

A unit's powers are ordinary Wagtail permissions on its own groups, scoped to its page subtree
(GroupPagePermission) and its collection (GroupCollectionPermission), so Wagtail's page and
collection permission policies enforce them everywhere (explorer, edit views, choosers, API):

- 编辑 (editors): add and change pages in the subtree, add/change/choose files in the collection; no publish;
- 审核 (reviewers): the same plus unlock; they approve in the unit's workflow, whose last approval publishes;
- 管理员 (administrators): the reviewers' powers plus managing accounts, so that they hold every power
  of their unit's groups and of the units below (whose subtrees lie inside theirs) and can grant those
  groups, and no others (``cms.audit.roles.lacking`` refuses the rest).

The top unit (the committee) owns the whole site's home page, so its reviewers review across the tree.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page, Site
from wagtail.permissions import policy_registry

from .models import Organisation
from .signals import unit_created

ROLE_SUFFIXES = {"editors": "编辑", "reviewers": "审核", "admins": "管理员"}
#: Nobody in a unit publishes directly: in Wagtail a publisher could skip the workflow (branch reviewer,
#: then the committee: ``cms.approval``), whose last approval publishes the page.
PAGE_CODENAMES = {
    "editors": ("add_page", "change_page"),
    "reviewers": ("add_page", "change_page", "unlock_page"),
    "admins": ("add_page", "change_page", "unlock_page"),
}
_WORD_LISTS = (  # 敏感词 and 规范用语 are kept by the editors (cms.secrecy)
    "secrecy.add_sensitiveword", "secrecy.change_sensitiveword",
    "secrecy.add_preferredterm", "secrecy.change_preferredterm",
)
MODEL_PERMISSIONS = {
    "editors": ("wagtailadmin.access_admin", *_WORD_LISTS),
    "reviewers": ("wagtailadmin.access_admin", "secrecy.review_secrecy", *_WORD_LISTS),
    "admins": (
        "wagtailadmin.access_admin", "auth.add_user", "auth.change_user", "secrecy.review_secrecy", *_WORD_LISTS
    ),
}


def group_name(unit_name: str, role: str) -> str:
    return f"{unit_name}·{ROLE_SUFFIXES[role]}"


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _collection_permissions() -> list[Permission]:
    """add/change/choose on documents and images, on the models Wagtail's own policies check
    (``wagtaildocs.Document`` / ``wagtailimages.Image`` even when the project swaps the model)."""
    perms = []
    for model in (get_document_model(), get_image_model()):
        opts = policy_registry.get_by_type(model).auth_model._meta
        codenames = [f"{action}_{opts.model_name}" for action in ("add", "change", "choose")]
        perms += Permission.objects.filter(content_type__app_label=opts.app_label, codename__in=codenames)
    return perms


def _section_page(parent_root: Page, name: str, code: str, publish: bool, user) -> Page:
    """A column page for the unit under its parent's root page (the unit's own subtree)."""
    from cms.models import ColumnPage

    if parent_root is None:
        raise ValidationError({"root_page": "上级单位没有所辖页面，请指定该单位的所辖页面。"})
    parent_root = parent_root.specific
    if not ColumnPage.can_create_at(parent_root):
        raise ValidationError(
            {"root_page": f"不能在“{parent_root.title}”下为单位新建栏目页，请指定该单位的所辖页面。"}
        )
    page = ColumnPage(title=name, slug=f"unit-{code}", locale=parent_root.locale, live=False)
    parent_root.add_child(instance=page)
    revision = page.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user)
    return page


def _default_top_root() -> Page:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        raise ValidationError({"root_page": "没有默认站点，请指定党委的所辖页面。"})
    return site.root_page


def _grant(unit: Organisation) -> None:
    collection_perms = _collection_permissions()
    for role in ROLE_SUFFIXES:
        group = getattr(unit, f"{role}_group")
        group.permissions.add(*[_permission(p) for p in MODEL_PERMISSIONS[role]])
        for page in [unit.root_page, *unit.root_page.get_translations()]:
            _grant_pages(group, role, page)
        for perm in collection_perms:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=unit.collection, permission=perm
            )


def _grant_pages(group: Group, role: str, page: Page) -> None:
    for codename in PAGE_CODENAMES[role]:
        GroupPagePermission.objects.get_or_create(
            group=group, page=page, permission=_permission(f"wagtailcore.{codename}")
        )


def grant_translation(page: Page) -> list[Organisation]:
    """A unit's subtree in every language: when ``page`` is a translation of a unit's root page
    (wagtail-localize creating the zh-hant or en copy), the unit's groups get the same page powers
    on it as on the source. Returns the units concerned (usually none: one indexed query)."""
    units = list(
        Organisation.objects.filter(root_page__translation_key=page.translation_key)
        .exclude(root_page=page)
        .select_related("editors_group", "reviewers_group", "admins_group")
    )
    for unit in units:
        for role in ROLE_SUFFIXES:
            group = getattr(unit, f"{role}_group")
            if group is not None:
                _grant_pages(group, role, page)
    return units


@transaction.atomic
def create_unit(
    code: str,
    name: str,
    parent: Organisation | None = None,
    root_page: Page | None = None,
    user=None,
    publish: bool = False,
) -> Organisation:
    """Create a unit with its page subtree, collection, three groups and their scoped permissions,
    all or nothing; then send ``unit_created`` (still inside the transaction, so a failing receiver
    undoes the unit too)."""
    unit = Organisation(code=code, name=name, parent=parent)
    unit.full_clean(exclude=["root_page", "collection", "editors_group", "reviewers_group", "admins_group"])
    for role in ROLE_SUFFIXES:
        if Group.objects.filter(name=group_name(name, role)).exists():
            raise ValidationError({"name": f"用户组“{group_name(name, role)}”已存在，请换一个单位名称。"})
    if root_page is None:
        root_page = (
            _default_top_root()
            if parent is None
            else _section_page(parent.root_page, name, code, publish, user)
        )
    unit.root_page = root_page
    parent_collection = (
        parent.collection if parent and parent.collection else Collection.get_first_root_node()
    )
    unit.collection = parent_collection.add_child(name=f"{code} {name}")
    for role in ROLE_SUFFIXES:
        setattr(unit, f"{role}_group", Group.objects.create(name=group_name(name, role)))
    unit.save()
    _grant(unit)
    unit_created.send(sender=Organisation, unit=unit)
    return unit


def group_units() -> dict[int, tuple[Organisation, str]]:
    """Every unit group's id → (unit, role)."""
    result = {}
    for unit in Organisation.objects.all():
        for role in ROLE_SUFFIXES:
            gid = getattr(unit, f"{role}_group_id")
            if gid:
                result[gid] = (unit, role)
    return result


def unit_of(user) -> Organisation | None:
    """The user's unit: the deepest unit whose editor, reviewer or administrator group they are in."""
    if not getattr(user, "pk", None):
        return None
    group_ids = list(user.groups.values_list("pk", flat=True))
    if not group_ids:
        return None
    return (
        Organisation.objects.filter(
            Q(editors_group__in=group_ids) | Q(reviewers_group__in=group_ids) | Q(admins_group__in=group_ids)
        )
        .order_by("-code")
        .first()
    )


def units_managed_by(user) -> QuerySet[Organisation]:
    """The units a user administers: for each unit whose administrators' group they are in, that
    unit and every unit below it. Superusers manage every unit."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    codes = Organisation.objects.filter(admins_group__user=user).values_list("code", flat=True)
    q = Q(pk=None)
    for code in codes:
        q |= Q(code__startswith=code)
    return Organisation.objects.filter(q).order_by("code")


def unit_group_ids(units) -> set[int]:
    ids = set()
    for unit in units:
        ids |= {gid for gid in (unit.editors_group_id, unit.reviewers_group_id, unit.admins_group_id) if gid}
    return ids


def user_scope(actor):
    """The accounts ``actor`` may manage, as a User queryset; None when unlimited.

    Unlimited for a superuser and for an account that manages users other than as a unit
    administrator (the system and security administrators). A unit administrator manages the
    members of its unit's groups and of the units below.
    """
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if not actor.is_active or actor.is_superuser:
        return None
    admin_group_ids = set(
        Organisation.objects.filter(admins_group__isnull=False).values_list("admins_group_id", flat=True)
    )
    own_groups = set(actor.groups.values_list("pk", flat=True))
    if not own_groups & admin_group_ids:
        return None
    other = own_groups - admin_group_ids
    user_perm_names = {"add_user", "change_user", "assign_roles"}
    if (
        Permission.objects.filter(group__in=other, codename__in=user_perm_names).exists()
        or actor.user_permissions.filter(codename__in=user_perm_names).exists()
    ):
        return None
    ids = unit_group_ids(units_managed_by(actor))
    return User._default_manager.filter(groups__in=ids).distinct()


def may_manage_user(actor, target) -> bool:
    """Is ``target`` inside ``actor``'s scope? An account in no group yet (just created) is."""
    scope = user_scope(actor)
    if scope is None or target is None or target.pk is None:
        return True
    if not target.groups.exists():
        return True
    return scope.filter(pk=target.pk).exists()


def scoped_groups(actor, groups: QuerySet[Group]) -> QuerySet[Group]:
    """``groups`` narrowed, for a unit administrator, to the groups of the units it manages."""
    if user_scope(actor) is None:
        return groups
    return groups.filter(pk__in=unit_group_ids(units_managed_by(actor)))
