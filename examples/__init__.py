"""Example apps: a bookshop in a sync and an async flavour, and a deliberately broken variant."""
