"""The quickstart application."""
