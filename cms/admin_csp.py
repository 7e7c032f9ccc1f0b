"""Wagtail's chooser widgets without inline scripts, so the admin runs under our Content-Security-Policy.

Wagtail 8 renders every chooser widget (pages, images, documents, snippets, workflow tasks) as its HTML
followed by ``<script>new ImageChooser("id_cover_image", {…});</script>``, written in Python
(``BaseChooser.render``), where neither a template override nor the request's nonce can reach it. Our
policy blocks such scripts, and the chooser button then does nothing.

``install()`` (called once from ``CmsConfig.ready``) makes ``BaseChooser.render`` emit an inert
``<template data-shuyuan-init=…>`` marker instead, which ``site_theme/static/site_theme/admin/csp-init.js``
(loaded on every admin page) turns into the same call. This is the one place where we replace a method
of Wagtail's: every chooser, including those Wagtail builds itself (the move-page and site forms, the
workflow editor), goes through ``BaseChooser.render``, and there is no setting or hook for its script.
``tests/browser/test_csp_browser.py`` opens the choosers in a real browser under the policy, and
``tests/security/test_http_headers.py`` fails if a Wagtail upgrade changes what this relies on.
"""

from __future__ import annotations

import json

from django.utils.html import format_html
from django.utils.safestring import SafeString

#: chooser widgets whose ``render_js_init`` is not Wagtail's default ``new <js_constructor>(id, options)``:
#: class name -> the function their script calls with the widget's id only
_CALLS_WITH_ID = {"AdminTaskChooser": "createTaskChooser"}


def render_chooser(widget, name, value, attrs=None, renderer=None) -> SafeString:
    """``BaseChooser.render`` with the init script replaced by a marker for csp-init.js."""
    from wagtail.admin.widgets.chooser import BaseChooser

    try:
        id_ = attrs["id"]
    except (KeyError, TypeError) as e:
        raise TypeError("BaseChooser cannot be rendered without an 'id' attribute") from e
    value_data = widget.get_value_data(value)
    widget_html = widget.render_html(name, value_data, attrs)
    for cls in type(widget).__mro__:
        if cls.__name__ in _CALLS_WITH_ID:
            return format_html(
                '{}<template data-shuyuan-init="{}" data-shuyuan-id="{}"></template>',
                widget_html, _CALLS_WITH_ID[cls.__name__], id_,
            )
        if "render_js_init" in cls.__dict__ and cls is not BaseChooser:
            # a chooser with a script of its own that we don't know: keep it (the CSP test shows it)
            return _ORIGINAL_RENDER(widget, name, value, attrs, renderer)
        if cls is BaseChooser:
            break
    options = widget.get_js_init_options(id_, name, value_data)
    return format_html(
        '{}<template data-shuyuan-init="{}" data-shuyuan-id="{}" data-shuyuan-options="{}"></template>',
        widget_html, widget.js_constructor, id_, json.dumps(options),
    )


_ORIGINAL_RENDER = None


def install() -> None:
    """Replace ``BaseChooser.render`` (idempotent)."""
    global _ORIGINAL_RENDER
    from wagtail.admin.widgets.chooser import BaseChooser

    if BaseChooser.render is render_chooser:
        return
    _ORIGINAL_RENDER = BaseChooser.render
    BaseChooser.render = render_chooser
