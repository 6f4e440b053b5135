"""A shop that has never heard of fastapi-boundary."""
