"""``python -m search.public --index PATH --port N``: the public search service, with no Django."""

import sys

from .server import main

sys.exit(main())
