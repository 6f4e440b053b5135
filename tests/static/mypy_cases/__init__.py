"""Sample modules for the mypy plugin's tests: ``# E: <code>`` marks each expected error.

They are checked by ``tests/static/test_mypy_plugin.py`` (copied out and run through
mypy), never imported.
"""
