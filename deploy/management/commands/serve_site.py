"""``manage.py serve_site --port 8001``: serve the locally published static site (for the demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from deploy.serve import serve


class Command(BaseCommand):
    help = "Serve the published static site from the local target folder."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--bind", default="127.0.0.1")
        parser.add_argument("--dir", help="folder to serve (default: the local publish target)")

    def handle(self, *args, port=8001, bind="127.0.0.1", dir=None, **options):
        serve(bind=bind, port=port, folder=dir, log=self.stdout.write)
