"""Start the public search service (granian, the server the CMS runs on), with no Django."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .app import PublicSearchApp, create_app
from .bundle import BundleError

ENV_INDEX = "SHUYUAN_PUBLIC_SEARCH_INDEX"
ENV_ORIGINS = "SHUYUAN_PUBLIC_SEARCH_ORIGINS"
ENV_LOG = "SHUYUAN_PUBLIC_SEARCH_LOG"
ENV_ELASTICSEARCH = "SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH_URL"
TARGET = "search.public.wsgi:application"
THREADS = 8


class ConfigurationError(Exception):
    """The service's configuration is wrong; the message names the variable or option."""


def app_from_environ(environ: Mapping[str, str] | None = None) -> PublicSearchApp:
    env = os.environ if environ is None else environ
    index = env.get(ENV_INDEX, "")
    if not index:
        raise ConfigurationError(f"{ENV_INDEX} must name the public search bundle folder (export_public_search writes it).")
    origins = [o.strip() for o in env.get(ENV_ORIGINS, "").split(",") if o.strip()]
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigurationError(f"{ENV_ORIGINS}: {origin!r} is not an origin such as https://www.example.org")
    try:
        return create_app(index, origins=origins, log=env.get(ENV_LOG) or None, elasticsearch_url=env.get(ENV_ELASTICSEARCH) or None)
    except BundleError as exc:
        raise ConfigurationError(f"{ENV_INDEX}: {exc}") from exc


def serve(index: str, *, host: str = "127.0.0.1", port: int = 8080, origins: Sequence[str] = (), log: str | None = None, workers: int = 1) -> None:
    """Check the configuration here (fail fast), then run granian's WSGI server on it until stopped."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[ENV_INDEX] = str(Path(index).resolve())
    os.environ[ENV_ORIGINS] = ",".join(origins)
    if log:
        os.environ[ENV_LOG] = str(Path(log).resolve()) if log != "-" else "-"
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.public", description="Serve the public search bundle.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(args.index, host=args.host, port=args.port, origins=args.origins, log=args.log, workers=args.workers)
    except ConfigurationError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0
