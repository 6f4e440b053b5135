"""The test suite (a package, so test modules can share fixtures and sample layers)."""
