"""Start the public search service (granian, the server the CMS runs on), with no Django."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .app import DEFAULT_MAX_CLIENTS, DEFAULT_RATES, PublicSearchApp, Rate, RateLimiter, create_app
from .bundle import BundleError

ENV_INDEX = "SHUYUAN_PUBLIC_SEARCH_INDEX"
ENV_ORIGINS = "SHUYUAN_PUBLIC_SEARCH_ORIGINS"
ENV_LOG = "SHUYUAN_PUBLIC_SEARCH_LOG"
ENV_ELASTICSEARCH = "SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH_URL"
#: per-client budgets (``60/minute``, ``60/60`` in seconds, ``off``), one per kind of request
ENV_RATES = {budget: f"SHUYUAN_PUBLIC_SEARCH_RATE_{budget.upper()}" for budget in DEFAULT_RATES}
#: the most clients the rate limiter remembers at once (memory stays bounded whoever asks)
ENV_RATE_CLIENTS = "SHUYUAN_PUBLIC_SEARCH_RATE_CLIENTS"
#: the reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated)
ENV_TRUSTED_PROXIES = "SHUYUAN_PUBLIC_SEARCH_TRUSTED_PROXIES"
TARGET = "search.public.wsgi:application"
THREADS = 8


class ConfigurationError(Exception):
    """The service's configuration is wrong; the message names the variable or option."""


def limiter_from_environ(env: Mapping[str, str]) -> RateLimiter:
    """The rate limiter the environment configures (defaults: ``DEFAULT_RATES``, no trusted proxy)."""
    rates: dict[str, Rate | None] = {}
    for budget, name in ENV_RATES.items():
        raw = env.get(name, "").strip()
        if raw:
            try:
                rates[budget] = Rate.parse(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{name}: {exc}") from exc
    raw = env.get(ENV_RATE_CLIENTS, "").strip() or str(DEFAULT_MAX_CLIENTS)
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000_000:
        raise ConfigurationError(f"{ENV_RATE_CLIENTS}: {raw[:30]!r} is not a number of clients from 1 to 10000000")
    proxies = [p.strip() for p in env.get(ENV_TRUSTED_PROXIES, "").split(",") if p.strip()]
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise ConfigurationError(f"{ENV_TRUSTED_PROXIES}: {proxy[:50]!r} is not an IP address or network (10.0.0.0/8)") from exc
    return RateLimiter(rates, max_clients=int(raw), trusted_proxies=proxies)


def app_from_environ(environ: Mapping[str, str] | None = None) -> PublicSearchApp:
    env = os.environ if environ is None else environ
    index = env.get(ENV_INDEX, "")
    if not index:
        raise ConfigurationError(f"{ENV_INDEX} must name the public search bundle folder (export_public_search writes it).")
    origins = [o.strip() for o in env.get(ENV_ORIGINS, "").split(",") if o.strip()]
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigurationError(f"{ENV_ORIGINS}: {origin!r} is not an origin such as https://www.example.org")
    limiter = limiter_from_environ(env)
    try:
        return create_app(index, origins=origins, log=env.get(ENV_LOG) or None, elasticsearch_url=env.get(ENV_ELASTICSEARCH) or None,
                          limiter=limiter)
    except BundleError as exc:
        raise ConfigurationError(f"{ENV_INDEX}: {exc}") from exc


def serve(
    index: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    origins: Sequence[str] = (),
    log: str | None = None,
    workers: int = 1,
    rates: Mapping[str, str | None] | None = None,
    rate_clients: int | None = None,
    trusted_proxies: Sequence[str] = (),
) -> None:
    """Check the configuration here (fail fast), then run granian's WSGI server on it until stopped.
    ``rates`` (budget -> ``60/minute``), ``rate_clients`` and ``trusted_proxies``: given ones override
    the environment's. Each worker process counts its clients' budgets on its own."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[ENV_INDEX] = str(Path(index).resolve())
    os.environ[ENV_ORIGINS] = ",".join(origins)
    if log:
        os.environ[ENV_LOG] = str(Path(log).resolve()) if log != "-" else "-"
    for budget, raw in (rates or {}).items():
        if raw:
            os.environ[ENV_RATES[budget]] = raw
    if rate_clients:
        os.environ[ENV_RATE_CLIENTS] = str(rate_clients)
    if trusted_proxies:
        os.environ[ENV_TRUSTED_PROXIES] = ",".join(trusted_proxies)
    app_from_environ()
    Granian(
        TARGET,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=THREADS,  # requests one worker serves at once (granian's WSGI default: 512)
        working_dir=Path(__file__).resolve().parents[2],
        log_access=False,
    ).serve()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m search.public`` and ``manage.py serve_public_search`` (one list)."""
    parser.add_argument("--index", required=True, help="the bundle folder export_public_search wrote")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--allow-origin", action="append", default=[], dest="origins", metavar="ORIGIN",
                        help="an origin allowed to call the service from a browser (repeat; * for any)")
    parser.add_argument("--log", default=None, help="file for query and click events (default: stdout)")
    parser.add_argument("--workers", type=int, default=1)
    for budget, rate in DEFAULT_RATES.items():
        shown = f"{rate.count}/{rate.seconds:g}s" if rate else "off"
        parser.add_argument(f"--rate-{budget}", default=None, metavar="RATE",
                            help=f"{budget} requests a client may make (60/minute, 60/60, off; default {shown}; env {ENV_RATES[budget]})")
    parser.add_argument("--rate-clients", type=int, default=None, metavar="N",
                        help=f"the most clients the rate limiter remembers (default {DEFAULT_MAX_CLIENTS})")
    parser.add_argument("--trusted-proxy", action="append", default=[], dest="trusted_proxies", metavar="ADDRESS",
                        help="a reverse proxy (address or network) whose X-Forwarded-For is believed (repeat)")


def rate_options(args: Mapping[str, object]) -> dict[str, object]:
    """The rate-limit keyword arguments of :func:`serve` from the parsed options."""
    return {
        "rates": {budget: args.get(f"rate_{budget}") for budget in DEFAULT_RATES},
        "rate_clients": args.get("rate_clients"),
        "trusted_proxies": args.get("trusted_proxies") or (),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.public", description="Serve the public search bundle.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(args.index, host=args.host, port=args.port, origins=args.origins, log=args.log, workers=args.workers,
              **rate_options(vars(args)))
    except ConfigurationError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0
