"""cms.settings.test on the PostgreSQL database named by DATABASE_URL (``tests.postgres.run_django``'s default).

modelsearch picks its index columns from the database vendor when it is imported, so a PostgreSQL run
needs its own process: the tests start ``manage.py`` and their probes with this settings module
(test_admin_search_postgres.py, tests/deploy/test_parallel_render_postgres.py).
"""

import os

import dj_database_url

from cms.settings.test import *  # noqa: F403

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
