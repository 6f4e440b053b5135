"""Tests of the offload wing."""
