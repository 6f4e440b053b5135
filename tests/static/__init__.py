"""Tests of the static wing."""
