"""Tests of the audit wing."""
