"""Examples for the errors page."""
