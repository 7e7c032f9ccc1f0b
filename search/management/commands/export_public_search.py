"""``manage.py export_public_search [--to DIR] [--archive FILE]``: thin wrapper over search.public.export."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.backends.base import SearchError
from search.public.bundle import BundleError
from search.public.export import DEFAULT_KEEP, PublicExportError, export_public_search


class Command(BaseCommand):
    help = (
        "Export the public search bundle (public documents only, with the dictionary) for the public "
        "search service (serve_public_search), which needs neither the CMS nor its database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", dest="dest", help="bundle folder (default: SHUYUAN_PUBLIC_SEARCH_EXPORT)")
        parser.add_argument("--archive", help="also write the new release as a .tar.gz to ship")
        parser.add_argument("--keep", type=int, default=DEFAULT_KEEP, help="releases kept in the folder (default 2)")

    def handle(self, *args, dest=None, archive=None, keep=DEFAULT_KEEP, **options):
        dest = dest or getattr(settings, "SHUYUAN_PUBLIC_SEARCH_EXPORT", None)
        if not dest:
            raise CommandError("Give --to DIR or set SHUYUAN_PUBLIC_SEARCH_EXPORT.")
        self.stdout.write(f"Exporting the public search bundle to {dest}…")
        try:
            result = export_public_search(dest, keep=keep, archive=archive)
        except (PublicExportError, BundleError, SearchError, OSError) as exc:
            raise CommandError(f"public search export failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Done: release {result.release}, {result.documents} public documents, {result.seconds:.1f} s.")
        )
        if result.archive:
            self.stdout.write(f"Archive: {result.archive}")
