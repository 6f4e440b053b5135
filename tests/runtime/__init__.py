"""Tests of the runtime wing."""
