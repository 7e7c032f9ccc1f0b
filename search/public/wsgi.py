"""WSGI entry of the public search service, configured by the environment (no Django settings):

    SHUYUAN_PUBLIC_SEARCH_INDEX    the bundle folder the export wrote (required)
    SHUYUAN_PUBLIC_SEARCH_ORIGINS  origins allowed to call it from a browser, comma-separated
                                   (the static site's, e.g. https://www.example.org)
    SHUYUAN_PUBLIC_SEARCH_LOG      file for the query and click events (default: stdout)
    SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH_URL
                                   the public-side Elasticsearch cluster, for a bundle exported there
                                   (read-only credentials for the public alias only)
    SHUYUAN_PUBLIC_SEARCH_RATE_SEARCH / _SUGGEST / _CLICK
                                   what one client may ask (60/minute, 120/minute, 120/minute;
                                   N/minute, N/hour, N/SECONDS or off); past it a 429
    SHUYUAN_PUBLIC_SEARCH_RATE_CLIENTS
                                   the most clients the limiter remembers (10000)
    SHUYUAN_PUBLIC_SEARCH_TRUSTED_PROXIES
                                   reverse proxies whose X-Forwarded-For is believed

    granian --interface wsgi --host 0.0.0.0 --port 8080 search.public.wsgi:application

``manage.py serve_public_search`` and ``python -m search.public`` start exactly this. Like any WSGI
module, importing it builds the app, so a missing or unreadable bundle stops the server at start-up.
"""

from __future__ import annotations

from .server import app_from_environ

application = app_from_environ()
