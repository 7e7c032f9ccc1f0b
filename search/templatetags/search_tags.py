"""The kinds of content members can search, for the search pages (labels in the active language).

The kinds and their labels come from the page models (``search.documents.kinds()``), so a template or
script never keeps its own list of them.
"""

from __future__ import annotations

import json

from django import template

from search.documents import all_kinds

register = template.Library()


@register.simple_tag
def search_kinds_json() -> str:
    """``[[code, label], ...]`` in display order, as JSON for a data attribute read by ``search.js``."""
    return json.dumps(all_kinds(), ensure_ascii=False)


@register.filter
def kind_label(code: str) -> str:
    """The label of a kind code (the code itself for a kind no page type declares any more)."""
    return dict(all_kinds()).get(code, code)
