"""cms.settings.test on the PostgreSQL database named by DATABASE_URL (for test_admin_search_postgres.py).

modelsearch picks its index columns from the database vendor when it is imported, so a PostgreSQL run
needs its own process: the test starts ``manage.py`` and a probe with ``--settings`` set to this module.
"""

import os

import dj_database_url

from cms.settings.test import *  # noqa: F403

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
