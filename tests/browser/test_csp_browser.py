"""The Content-Security-Policy holds in a real browser: no page of the admin or the members' pages needs
an inline script that the policy blocks.

A violation shows up two ways in chromium, and both are collected: a ``securitypolicyviolation`` event
in the page (reported to the test through an exposed binding, which survives navigations) and a console
error mentioning "Content Security Policy". Either one fails the test, with the page and what was blocked.
"""


import pytest

# Runs before any script of every document (Playwright injects it through the DevTools protocol, so the
# policy under test does not apply to it).
LISTEN = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
                             source: e.sourceFile + ":" + e.lineNumber, page: location.pathname});
}, true);
"""


class Violations(list):
    """Every CSP violation seen in one browser context."""

    def watch(self, context):
        context.expose_binding("reportCspViolation", lambda source, v: self.append(v))
        context.add_init_script(LISTEN)
        context.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.append({"console": message.text, "page": message.page.url if message.page else ""})


def _session_context(browser, live_server, user, violations):
    """A browser context signed in as ``user`` (the session cookie of a Django test client login)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    violations.watch(context)
    return context


def _settle(page):
    page.wait_for_load_state("networkidle")


def _open_chooser(page, button):
    """Click a chooser button and wait for its modal (proof that the widget's script ran)."""
    button.click()
    page.locator(".modal.fade.in .modal-content").wait_for(timeout=10_000)
    _settle(page)
    page.locator(".modal.fade.in [data-dismiss='modal']").first.click()
    page.locator(".modal.fade.in").wait_for(state="detached", timeout=10_000)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_and_members_pages_run_without_csp_violations(live_server, browser, settings):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from wagtail.models import Locale

    from cms import visibility
    from cms.translation import translate_page
    from tests.factories import build_site

    # the editor's autosave would write while the next page loads: SQLite's shared test database locks
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    tree = build_site(n_articles=1)
    article, material = tree.articles[0], tree.materials[0]
    admin = get_user_model().objects.create_superuser("csp-admin", "", "pw")
    member = get_user_model().objects.create_user("csp-member", "", "pw")
    member.groups.add(visibility.members_group())
    hant = Locale.objects.create(language_code="zh-hant")
    for ancestor in article.get_ancestors(inclusive=True).filter(depth__gt=1):
        translate_page(ancestor, hant, user=admin)
    hant_article = article.get_translation(hant)
    cache.clear()

    violations = Violations()
    editor = _session_context(browser, live_server, admin, violations).new_page()
    editor.goto("/admin/")
    _settle(editor)

    # a page with a date field, an image chooser, a StreamField and the scheduling dialog's pickers
    editor.goto(f"/admin/pages/{article.pk}/edit/")
    _settle(editor)
    started = editor.evaluate(
        "['id_date', 'id_go_live_at', 'id_expire_at'].map(id => !!jQuery('#' + id).data('xdsoft_datetimepicker'))"
    )
    assert started == [True, True, True], "the date pickers were not started"
    _open_chooser(editor, editor.locator("#id_cover_image-chooser .unchosen [data-chooser-action-choose]"))
    # a new image block in the body: its chooser is built by telepath, in the browser
    editor.locator("#body-root .c-sf-add-button").first.click()
    editor.get_by_role("option", name="图片").first.click()
    _open_chooser(editor, editor.locator("#body-root .image-chooser.blank .unchosen [data-chooser-action-choose]").first)

    # an inline panel: adding an attachment inserts a form whose document chooser must start too
    editor.goto(f"/admin/pages/{material.pk}/edit/")
    _settle(editor)
    editor.locator("#id_attachments-ADD").click()
    new_form = editor.locator("#id_attachments-0-document-chooser")
    new_form.wait_for()
    _open_chooser(editor, new_form.locator(".unchosen [data-chooser-action-choose]"))

    for path in ["/admin/images/", "/admin/documents/", "/admin/images/multiple/add/"]:
        editor.goto(path)
        _settle(editor)
    # wagtail-localize's translation editor (a React app) for the zh-hant copy
    editor.goto(f"/admin/pages/{hant_article.pk}/edit/")
    _settle(editor)
    editor.locator(".js-translation-editor *").first.wait_for()

    members = _session_context(browser, live_server, member, violations).new_page()
    for path in [tree.home.url, tree.members_article.url, "/zh-hans/study/search/?q=党建", f"{tree.library.url}search/?q=党建"]:
        members.goto(path)
        _settle(members)
    visitor = browser.new_context(base_url=live_server.url)
    violations.watch(visitor)
    login = visitor.new_page()
    login.goto("/accounts/login/")
    _settle(login)

    assert violations == [], "\n".join(map(str, violations))
