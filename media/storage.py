"""Where document files live: a storage of their own, never served directly.

Documents carry an audience, and Wagtail's document view (``/documents/<id>/<name>``) checks it before
it streams the file. That check is only worth something if the file cannot be fetched some other way,
so document files are kept out of ``MEDIA_ROOT`` (which the development server, and often nginx in
front of a production server, serves to anyone): ``STORAGES["documents"]`` is a folder of its own under
``var/private`` by default, or a private S3 bucket (``DOCUMENTS_S3_*``) in production.
"""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def document_storage() -> Storage:
    """The storage of document files (a callable, so the storage is chosen from settings at run time)."""
    return storages["documents"]
