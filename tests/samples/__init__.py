"""Samples shared by several test modules: process targets, drivers, routes. No tests here."""
