"""``manage.py serve_public_search --index DIR [--port N]``: thin wrapper over search.public.server.

The service itself uses no Django and no database; on the public host run it without the CMS's
settings as ``python -m search.public`` (same options) or under granian (``search.public.wsgi``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from search.public.server import ConfigurationError, add_arguments, rate_options, serve


class Command(BaseCommand):
    help = "Serve the exported public search bundle (search, suggestions, click beacons) with no database."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, index, host, port, origins, log, workers, **options):
        self.stdout.write(f"Public search on http://{host}:{port}/api/v2/search/ from {index}")
        try:
            serve(index, host=host, port=port, origins=origins, log=log, workers=workers, **rate_options(options))
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
