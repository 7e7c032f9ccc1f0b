"""Show each file's effective audience (实际可见范围) beside the editor's choice in the admin.

Wagtail's document and image screens are its own views; these tags let our templates (which extend
Wagtail's) add the effective audience without replacing the views: a column on the listings, a line
on the edit screens. Audiences of a listing page are computed together (``effective_audiences``).
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from media.audience import FileAudience, effective_audience, effective_audiences

register = template.Library()


def audience_label(file, audience) -> str:
    """"公开（跟随所用页面）", "仅会员", …: the effective audience, and where it comes from."""
    if file.audience == FileAudience.FOLLOW:
        return _("%(audience)s（跟随所用页面）") % {"audience": audience.label}
    return str(audience.label)


class EffectiveAudienceColumn(Column):
    def get_value(self, instance):
        return getattr(instance, "effective_audience_label", "")


@register.simple_tag
def with_audience_column(table):
    """The listing's table with a 实际可见范围 column; the rows' audiences are read at once."""
    rows = list(table.data)
    found = effective_audiences(rows)
    for row in rows:
        row.effective_audience_label = audience_label(row, found[(type(row), row.pk)])
    columns = [*table.columns.values(), EffectiveAudienceColumn("effective_audience", label=_("实际可见范围"))]
    return type(table)(
        columns,
        rows,
        template_name=table.template_name,
        base_url=table.base_url,
        ordering=table.ordering,
        classname=table.classname,
        attrs=table.base_attrs,
        caption=table.caption,
    )


@register.simple_tag
def annotate_audiences(files) -> str:
    """Set ``effective_audience_label`` on each file of a listing (for layouts that are not tables)."""
    files = list(files)
    found = effective_audiences(files)
    for file in files:
        file.effective_audience_label = audience_label(file, found[(type(file), file.pk)])
    return ""


@register.simple_tag
def file_audience_label(file) -> str:
    return audience_label(file, effective_audience(file))
