"""Applications audited on the CLI page."""
