"""Tests of the documentation: README, docs pages, docs_src examples, the bundled examples."""
