"""Search engines behind one contract (see :mod:`search.backends.base`)."""
