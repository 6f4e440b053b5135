"""``fastapi-boundary advise``: the guide's decision matrix as a tool.

Per route, and rolled up per router and per app, the mode the guide recommends,
from what the route reaches (``evidence``: the audit's dependency trees, the
layers they name, known drivers, marked functions and the body analysis) and,
when given, what it really spent its time on (``profile_reading``: the
monitor's profile).  ``recommend`` applies the matrix, ``plan`` writes a
per-feature migration plan, ``render`` prints both.
"""
