"""Vendored client SDKs (copied in, as apps do with small or abandoned ones)."""
