"""The 红色云图 link checker against a local HTTP server (no internet): 200 is fine; 404, a timeout
and a refused connection are broken; the dashboard lists the broken ones."""

from __future__ import annotations

import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import TestCase, override_settings

from cms.dashboard import links, tasks
from cms.dashboard.conf import link_check_settings
from cms.dashboard.models import LinkCheckSchedule, LinkStatus
from tests.factories import build_site

FAST = {"CONNECT_TIMEOUT": 1, "READ_TIMEOUT": 0.5, "WORKERS": 4, "ALLOW_PRIVATE": True}  # the test server is local


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.end_headers()
            return
        code = {"/ok": 200, "/slow": 200, "/error": 500}.get(self.path, 404)
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        try:
            self.wfile.write("<p>纪念馆</p>".encode())
        except OSError:  # the checker stopped waiting (the timeout case)
            pass

    def log_message(self, *args):
        pass


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@override_settings(SHUYUAN_LINK_CHECK=FAST)
class LinkCheckTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.env = mock.patch.dict(os.environ, {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
        cls.env.start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        cls.server.shutdown()
        cls.server.server_close()
        super().tearDownClass()

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()

    def set_urls(self, *paths):
        sites = self.tree.red_sites
        for site, p in zip(sites, paths, strict=True):
            site.external_url = p if p.startswith("http") else self.base + p
            site.save_revision().publish()
        return sites

    # negative cases first
    def test_404_timeout_and_refused_connection_are_broken(self):
        missing, slow, refused = self.set_urls("/missing", "/slow", f"http://127.0.0.1:{closed_port()}/x")
        counts = links.check_links()
        self.assertEqual(counts, {"checked": 3, "ok": 0, "broken": 3})
        status = {s.page_id: s for s in LinkStatus.objects.all()}
        self.assertEqual(status[missing.pk].http_status, 404)
        self.assertEqual(status[missing.pk].state, LinkStatus.State.BROKEN)
        self.assertEqual(status[slow.pk].error, "超时")
        self.assertIsNone(status[slow.pk].http_status)
        self.assertTrue(status[refused.pk].error.startswith("无法连接"))
        self.assertTrue(all(s.checked_at is not None and s.failures == 1 for s in status.values()))

    def test_private_addresses_are_not_fetched_by_default(self):
        self.set_urls("/ok", "/ok", "/ok")
        with override_settings(SHUYUAN_LINK_CHECK={**FAST, "ALLOW_PRIVATE": False}):
            counts = links.check_links()
        self.assertEqual(counts["broken"], 3)
        self.assertEqual({s.error for s in LinkStatus.objects.all()}, {"内网地址，不予检查"})
        self.assertFalse(links.check_url(self.base + "/redirect", 1, 1, allow_private=False).ok)

    def test_redirect_to_a_private_address_is_refused(self):
        with mock.patch.object(links, "is_private", side_effect=lambda u: u.endswith("/ok")):
            result = links.check_url(self.base + "/redirect", 1, 1, allow_private=False)
        self.assertEqual((result.ok, result.error), (False, "内网地址，不予检查"))

    def test_timeout_is_bounded(self):
        (slow,) = self.set_urls("/slow", "/ok", "/ok")[:1]
        started = time.monotonic()
        result = links.check_url(self.base + "/slow", 1, 0.3)
        self.assertLess(time.monotonic() - started, 1.8)
        self.assertFalse(result.ok)

    def test_server_error_is_broken(self):
        self.set_urls("/error", "/ok", "/ok")
        links.check_links()
        self.assertEqual(LinkStatus.objects.get(page=self.tree.red_sites[0]).http_status, 500)

    def test_ok_and_redirect_are_fine_and_broken_ones_listed(self):
        ok, redirect, missing = self.set_urls("/ok", "/redirect", "/missing")
        links.check_links()
        summary = links.link_summary()
        self.assertEqual((summary["ok"], summary["broken"], summary["unchecked"]), (2, 1, 0))
        self.assertEqual([page.pk for page, _ in summary["broken_links"]], [missing.pk])
        self.assertEqual(LinkStatus.objects.get(page=ok).http_status, 200)
        self.assertEqual(LinkStatus.objects.get(page=redirect).http_status, 200)

    def test_changed_link_counts_as_unchecked_and_failures_accumulate(self):
        self.set_urls("/missing", "/ok", "/ok")
        links.check_links()
        links.check_links(only_broken=True)
        self.assertEqual(LinkStatus.objects.get(page=self.tree.red_sites[0]).failures, 2)
        self.set_urls("/other-missing", "/ok", "/ok")
        self.assertEqual(links.link_summary()["unchecked"], 1)

    def test_recovered_link_resets_failures(self):
        self.set_urls("/missing", "/ok", "/ok")
        links.check_links()
        self.set_urls("/ok", "/ok", "/ok")
        links.check_links(only_broken=True)
        status = LinkStatus.objects.get(page=self.tree.red_sites[0])
        self.assertEqual((status.state, status.failures), (LinkStatus.State.OK, 0))

    def test_dashboard_lists_broken_links(self):
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        self.set_urls("/missing", "/ok", "/ok")
        call_command("check_links", stdout=StringIO())
        self.client.force_login(get_user_model().objects.create_superuser("root", "", "pw"))
        html = self.client.get(reverse("wagtailadmin_home")).content.decode()
        self.assertIn(self.tree.red_sites[0].title, html)
        self.assertIn("HTTP 404", html)

    def test_command_and_task(self):
        self.set_urls("/ok", "/ok", "/missing")
        out = StringIO()
        call_command("check_links", stdout=out)
        self.assertIn("正常 2，失效 1", out.getvalue())
        # the test backend runs at once and cannot defer: no retry, no chain
        result = tasks.check_links_task.enqueue().return_value
        self.assertEqual((result["broken"], result["retry_in"]), (1, None))
        tasks.ensure_link_check_schedule()
        self.assertFalse(LinkCheckSchedule.objects.exists())

    def test_stale_tick_stops(self):
        LinkCheckSchedule.objects.create(name=tasks.CHAIN.name, token="current", expires_at="2030-01-01T00:00Z")
        self.assertEqual(tasks.link_check_tick.enqueue("old").return_value, {"status": "superseded"})
        self.assertFalse(LinkStatus.objects.exists())


class SettingsTests(TestCase):
    def test_bad_settings_are_refused(self):
        for bad in ({"READ_TIMEOUT": 0}, {"CONNECT_TIMEOUT": "5"}, {"RETRY_DELAYS": [0]}, {"TYPO": 1}, ["x"],
                    {"ALLOW_PRIVATE": "yes"}):
            with self.subTest(bad=bad), override_settings(SHUYUAN_LINK_CHECK=bad), self.assertRaises(ImproperlyConfigured):
                link_check_settings()

    def test_bad_settings_fail_the_system_check(self):
        from cms.dashboard.checks import check_link_check_settings

        with override_settings(SHUYUAN_LINK_CHECK={"READ_TIMEOUT": -1}):
            self.assertEqual([e.id for e in check_link_check_settings()], ["shuyuan.E300"])
        self.assertEqual(check_link_check_settings(), [])

    def test_defaults(self):
        conf = link_check_settings()
        self.assertEqual((conf["CONNECT_TIMEOUT"], conf["READ_TIMEOUT"]), (5, 10))
