"""The public search service's rate limits: it faces the internet (内外网隔离), with no shared store.

Negative cases first: past its budget a client gets a 429 in Chinese with Retry-After; a forged
X-Forwarded-For from a peer that is not a trusted proxy changes nothing; an attacker rotating addresses
leaves a table no bigger than its bound; bad configuration stops the service at start-up. Then: another
client, and another kind of request, keep their own budgets; a budget comes back with time; a trusted
proxy's X-Forwarded-For names the client.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from search.backends.base import SearchDocument
from search.public.app import EventLog, PublicSearchApp, Rate, RateLimiter
from search.public.bundle import PublicBundle, write_release
from search.public.server import ConfigurationError, app_from_environ, limiter_from_environ
from search.text import Analyzer
from tests.search.test_public_service import ROOT, bare_env, call


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    docs = [
        SearchDocument(id=f"page:{i}", kind="article", title=f"三会一课学习{i}", body="支部按时开展三会一课。", url=f"/zh-hans/a{i}/")
        for i in range(1, 3)
    ]
    root = tmp_path_factory.mktemp("bundle")
    write_release(root, docs, analyzer=Analyzer(), choices={"locales": ["zh-hans"], "kinds": ["article"], "provinces": {}})
    return PublicBundle(root)


def make_app(bundle, **limits) -> tuple[PublicSearchApp, Clock]:
    clock = Clock()
    limiter = RateLimiter(limits.pop("rates", {"search": Rate(3, 60), "suggest": Rate(5, 60), "click": Rate(2, 60)}),
                          clock=clock, **limits)
    app = PublicSearchApp(bundle, origins=["https://www.example.org"], events=EventLog(io.StringIO()), limiter=limiter)
    return app, clock


def search(app, peer="203.0.113.7", **headers):
    return call(app, "/api/v2/search/", {"q": "三会一课"}, headers={"REMOTE_ADDR": peer, **headers})


def test_past_its_budget_a_client_gets_a_429_in_chinese_with_retry_after(bundle):
    app, clock = make_app(bundle)
    assert [search(app)[0] for _ in range(3)] == [200, 200, 200]
    status, headers, data = search(app, HTTP_ORIGIN="https://www.example.org")
    assert status == 429
    assert headers["Content-Type"].startswith("application/json")
    assert "请求过于频繁" in data["message"]
    # 3 a minute: the next request is allowed 20 s after the first
    assert headers["Retry-After"] == "20" and "20 秒" in data["message"]
    assert headers["Access-Control-Allow-Origin"] == "https://www.example.org"  # the page can read why
    # a bad request counts too (the limit comes before any work), and HEAD is a search
    assert call(app, "/api/v2/search/", {"page": "x"}, headers={"REMOTE_ADDR": "203.0.113.7"})[0] == 429
    assert call(app, "/api/v2/search/", {"q": "三会"}, method="HEAD", headers={"REMOTE_ADDR": "203.0.113.7"})[0] == 429
    clock.now += 20
    assert search(app)[0] == 200
    assert search(app)[0] == 429


def test_suggest_and_click_have_their_own_budgets(bundle):
    app, _clock = make_app(bundle)
    peer = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(3):
        search(app)
    assert search(app)[0] == 429
    suggests = [call(app, "/api/v2/search/suggest/", {"q": "三会"}, headers=peer)[0] for _ in range(6)]
    assert suggests == [200] * 5 + [429]
    body = b"log=1&doc=page:1&pos=1"
    clicks = [call(app, "/api/v2/search/click/", method="POST", body=body, headers=peer)[0] for _ in range(3)]
    assert clicks == [204, 204, 429]
    # what is not limited: the health check and CORS preflights
    assert call(app, "/healthz", headers=peer)[0] == 200
    assert call(app, "/api/v2/search/", method="OPTIONS", headers={**peer, "HTTP_ORIGIN": "https://www.example.org"})[0] == 204


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(bundle):
    app, _clock = make_app(bundle, trusted_proxies=["10.0.0.1"])
    statuses = [search(app, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")[0] for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    # nor does a trusted proxy's header when the client wrote the entries before it: the proxy appends
    # the real peer, and that rightmost untrusted entry is the client
    forged = {"HTTP_X_FORWARDED_FOR": "198.51.100.9, 203.0.113.50"}
    assert [search(app, "10.0.0.1", **forged)[0] for _ in range(3)] == [200] * 3
    forged = {"HTTP_X_FORWARDED_FOR": "198.51.100.10, 203.0.113.50"}
    assert search(app, "10.0.0.1", **forged)[0] == 429


def test_without_trusted_proxies_the_header_is_never_read(bundle):
    app, _clock = make_app(bundle)
    limiter = app.limiter
    assert limiter.client({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}) == "10.0.0.1"


def test_another_client_is_unaffected(bundle):
    app, _clock = make_app(bundle)
    for _ in range(3):
        search(app)
    assert search(app)[0] == 429
    assert search(app, "203.0.113.8")[0] == 200
    # behind a trusted proxy, each client the proxy names has its own budget
    app, _clock = make_app(bundle, trusted_proxies=["10.0.0.0/8"])
    for _ in range(3):
        search(app, "10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.1, 10.9.9.9")
    assert search(app, "10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.1, 10.9.9.9")[0] == 429
    assert search(app, "10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.2")[0] == 200


def test_an_ipv6_client_is_its_64_network():
    limiter = RateLimiter()
    assert limiter.client({"REMOTE_ADDR": "2001:db8:1:2::5"}) == limiter.client({"REMOTE_ADDR": "2001:db8:1:2:ffff::9"})
    assert limiter.client({"REMOTE_ADDR": "2001:db8:1:3::5"}) != limiter.client({"REMOTE_ADDR": "2001:db8:1:2::5"})
    assert limiter.client({"REMOTE_ADDR": "::ffff:203.0.113.7"}) == "203.0.113.7"


def test_rotating_addresses_keeps_the_client_table_bounded(bundle):
    app, _clock = make_app(bundle, max_clients=50)
    for i in range(2000):
        peer = f"198.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        assert search(app, peer)[0] == 200
    assert len(app.limiter) == 50
    assert app.limiter.forgotten == 2000 - 50
    # a client seen a moment ago is remembered: its fourth request is still refused
    for _ in range(3):
        search(app, "203.0.113.99")
    assert search(app, "203.0.113.99")[0] == 429 and len(app.limiter) == 50


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SHUYUAN_PUBLIC_SEARCH_RATE_SEARCH": "lots"}, "SHUYUAN_PUBLIC_SEARCH_RATE_SEARCH: 'lots' is not a rate"),
        ({"SHUYUAN_PUBLIC_SEARCH_RATE_CLICK": "0/60"}, "SHUYUAN_PUBLIC_SEARCH_RATE_CLICK"),
        ({"SHUYUAN_PUBLIC_SEARCH_RATE_CLIENTS": "-1"}, "SHUYUAN_PUBLIC_SEARCH_RATE_CLIENTS"),
        ({"SHUYUAN_PUBLIC_SEARCH_TRUSTED_PROXIES": "10.0.0.1,proxy.local"}, "SHUYUAN_PUBLIC_SEARCH_TRUSTED_PROXIES: 'proxy.local'"),
    ],
)
def test_bad_rate_configuration_stops_the_service_at_start_up(bundle, env, message):
    with pytest.raises(ConfigurationError, match=message):
        app_from_environ({"SHUYUAN_PUBLIC_SEARCH_INDEX": str(bundle.root), **env})


def test_the_rates_come_from_the_environment(bundle):
    limiter = limiter_from_environ({
        "SHUYUAN_PUBLIC_SEARCH_RATE_SEARCH": "10/minute",
        "SHUYUAN_PUBLIC_SEARCH_RATE_SUGGEST": "off",
        "SHUYUAN_PUBLIC_SEARCH_RATE_CLICK": "600/10m",
        "SHUYUAN_PUBLIC_SEARCH_RATE_CLIENTS": "7",
        "SHUYUAN_PUBLIC_SEARCH_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
    })
    assert limiter.rates == {"search": Rate(10, 60), "suggest": None, "click": Rate(600, 600)}
    assert limiter.max_clients == 7 and len(limiter.proxies) == 2
    defaults = app_from_environ({"SHUYUAN_PUBLIC_SEARCH_INDEX": str(bundle.root), "SHUYUAN_PUBLIC_SEARCH_LOG": "-"}).limiter
    assert defaults is not None and defaults.rates["search"] == Rate(60, 60) and defaults.proxies == ()


def test_the_command_line_options_reach_the_limiter(tmp_path):
    """``python -m search.public --rate-search off``: the option is read (a bad one is refused by name)."""
    done = subprocess.run(
        [sys.executable, "-m", "search.public", "--index", str(tmp_path), "--rate-search", "many", "--port", "9"],
        env=bare_env(), cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "SHUYUAN_PUBLIC_SEARCH_RATE_SEARCH: 'many' is not a rate" in done.stderr


def test_the_started_service_limits_each_client(bundle, tmp_path):
    """``python -m search.public --rate-search 2/minute`` under granian: the peer address reaches the
    limiter, and a forged X-Forwarded-For (no trusted proxy configured) changes nothing."""
    import os
    import time
    import urllib.request

    from tests.search.test_public_service import _free_port, _get

    port = _free_port()
    command = [sys.executable, "-m", "search.public", "--index", str(bundle.root), "--port", str(port),
               "--rate-search", "2/minute", "--log", str(tmp_path / "events.jsonl")]
    server = subprocess.Popen(command, env=bare_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(server.stdout.read().decode()[-2000:] if server.poll() is not None else "no answer") from None
                time.sleep(0.2)
        url = f"{base}/api/v2/search/?q=%E5%AD%A6%E4%B9%A0"
        assert [_get(url)[0] for _ in range(2)] == [200, 200]
        request = urllib.request.Request(url, headers={"X-Forwarded-For": "198.51.100.1"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("not limited")
        except urllib.error.HTTPError as exc:
            assert exc.code == 429 and int(exc.headers["Retry-After"]) >= 1
            assert "请求过于频繁" in json.loads(exc.read())["message"]
        assert _get(f"{base}/api/v2/search/suggest/?q=x")[0] == 200  # its own budget
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
