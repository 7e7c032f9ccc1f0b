"""Public URLs owned by the publisher: feeds, sitemaps, robots.txt.

Included at the root of ``cms.urls`` (before the i18n page patterns); the language is part of the
path so the same URL works in the CMS and in the static copy.
"""

from django.urls import path

from . import feeds

urlpatterns = [
    path("robots.txt", feeds.robots_txt, name="shuyuan_robots"),
    path("sitemap.xml", feeds.sitemap_index, name="shuyuan_sitemap_index"),
    path("<str:language>/sitemap.xml", feeds.sitemap, name="shuyuan_sitemap"),
    path("<str:language>/sitemap-<int:chunk>.xml", feeds.sitemap, name="shuyuan_sitemap_chunk"),
    path("<str:language>/feeds/<int:column_id>/rss.xml", feeds.ColumnFeed(), name="shuyuan_feed_rss"),
    path("<str:language>/feeds/<int:column_id>/atom.xml", feeds.ColumnAtomFeed(), name="shuyuan_feed_atom"),
]
