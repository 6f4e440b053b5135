"""A RealWorld-style blogging API ("conduit"): sync SQLAlchemy reached from async endpoints."""
