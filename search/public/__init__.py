"""The public search (内外网隔离): an index of public documents only, and a service that needs no CMS.

The CMS, its database and its engine stay on the internal network. Publishing exports a
self-contained bundle (:mod:`search.public.export`, run inside the CMS) holding only what the
visibility rule and the publisher's secrecy check both call public; the operator ships it to the
public host, where a small WSGI app (:mod:`search.public.app`) serves the static site's search,
suggestions and click beacons from it. Everything here but ``export`` imports neither Django nor the
CMS: the service runs with no settings module, no database and no route to the CMS.
"""
