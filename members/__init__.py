"""Members taking part (issue #16): who a member is in the organisation tree, reminders sent to them,
and, in time, surveys, the feedback mailbox, the question bank and study records."""

# The parts of members' participation that have their own API, pages and schema (issue #16): each has
# ``urls.urlpatterns`` (members' pages under /accounts/) and ``api`` (``urlpatterns`` under /api/v2/,
# ``openapi_paths()``, ``openapi_components()``).
PARTS = ("members.surveys", "members.quiz", "members.records")
