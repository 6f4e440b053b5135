"""An app shaped like the ones people already have, for the adoption tests.

No class uses the library: repositories and services are plain classes,
declared as layers only in ``[tool.fastapi-boundary.layers]`` (`LAYERS`);
providers have no return annotations, one ``Depends`` is not annotated at all,
a class-based view serves a route.  ``make_app`` builds variants: one cause
fixed, one new cause added.
"""

#: The layers table the tests write to a pyproject.toml.
LAYERS = """\
[tool.fastapi-boundary.layers]
"tests.samples.legacy.repositories.*" = "sync repository"
"tests.samples.legacy.repositories.AuditRepository" = "async repository"
"tests.samples.legacy.services.BillingService" = "async service"
"""
