"""Examples included into the documentation; tests/test_docs_src.py runs every one."""
