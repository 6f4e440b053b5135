"""A forward reference that only check_app (or install at start-up) can resolve."""
