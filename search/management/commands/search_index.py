"""``manage.py search_index rebuild|update|vectors|check``: thin wrapper over search.indexing."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from search import indexing
from search.backends.base import SearchError


class Command(BaseCommand):
    help = (
        "Rebuild the search index, follow the changes it missed, compute the semantic re-ranking vectors "
        "(resumable), or check the index against the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "update", "vectors", "check"])

    def handle(self, *args, action: str, **options):
        try:
            if action == "rebuild":
                self._rebuild()
            elif action == "update":
                self._update()
            elif action == "vectors":
                self._vectors()
            else:
                self._check()
        except SearchError as exc:
            raise CommandError(f"search engine error: {exc}") from exc

    def _progress(self, done: int, total: int | None) -> None:
        if total is None:
            self.stdout.write(f"\r  indexed {done} documents…", ending="")
        else:
            self.stdout.write(f"\r  indexed {done} documents, switching to the new index.")
        self.stdout.flush()

    def _rebuild(self) -> None:
        self.stdout.write("Rebuilding the search index…")
        count = indexing.rebuild(progress=self._progress)
        self.stdout.write(self.style.SUCCESS(f"Done: {count} documents indexed."))
        self._vectors()

    def _vectors(self) -> None:
        from search.loader import get_search_backend

        if get_search_backend().reranker is None:
            self.stdout.write("Semantic re-ranking is off (SHUYUAN_SEARCH RERANK): no vectors to compute.")
            return
        self.stdout.write("Computing semantic re-ranking vectors (only for new or changed documents)…")

        def progress(done: int, total: int | None) -> None:
            self.stdout.write(f"\r  checked {done}/{total if total is not None else '?'} documents", ending="")
            self.stdout.flush()

        embedded, pruned = indexing.embed_vectors(progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Done: {embedded} embedded, {pruned} dropped for documents no longer indexed."))

    def _update(self) -> None:
        from search.documents import expected_ids, file_pk_of, page_id_of

        report = indexing.check()
        if not report.healthy:
            # No usable index (first start, or one written by an older version of the schema): an
            # update cannot repair that, a rebuild can (and fails with the engine's own reason if the
            # engine itself is unreachable, leaving the changes to follow in place).
            self.stdout.write(f"The search index is not usable ({report.detail}); rebuilding it.")
            self._rebuild()
            return
        followed = indexing.catch_up()
        self.stdout.write(f"Followed {followed} change(s) the index had missed.")
        ids = [page_id_of(i) for i in report.missing + report.stale]
        ids = [i for i in ids if i is not None]
        for start in range(0, len(ids), 100):
            indexing.update_pages(ids[start : start + 100])
            self.stdout.write(f"  updated {min(start + 100, len(ids))}/{len(ids)} out-of-date documents")
        files = [pk for pk in map(file_pk_of, report.missing + report.stale) if pk is not None]
        for start in range(0, len(files), 100):
            indexing.update_files(files[start : start + 100])
            self.stdout.write(f"  updated {min(start + 100, len(files))}/{len(files)} out-of-date library documents")
        self.stdout.write(self.style.SUCCESS(f"Index up to date ({len(expected_ids())} documents expected)."))
        self._vectors()

    def _check(self) -> None:
        report = indexing.check()
        w = self.stdout.write
        w(f"engine:    {report.engine} ({'healthy' if report.healthy else 'UNAVAILABLE'}) {report.detail}")
        w(f"indexed:   {report.indexed if report.indexed is not None else '?'}")
        w(f"expected:  {report.expected}")
        w(f"missing:   {len(report.missing)} {' '.join(report.missing[:10])}")
        w(f"stale:     {len(report.stale)} {' '.join(report.stale[:10])}")
        w(f"backlog:   {report.pending} change(s) to follow")
        if report.vectors is not None:
            w(f"vectors:   {report.vectors} (semantic re-ranking; `search_index vectors` fills the rest)")
        if report.ok:
            w(self.style.SUCCESS("Search index OK."))
        else:
            w(self.style.WARNING("Search index needs attention: run `search_index update` (or `rebuild`)."))
            sys.exit(1)
