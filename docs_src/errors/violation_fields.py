import importlib
import json

from fastapi_boundary import BoundaryError, LayerDependencyError

try:
    importlib.import_module("docs_src.rules.r3_wrong")
except LayerDependencyError as error:
    print(isinstance(error, BoundaryError), isinstance(error, TypeError))
    (violation,) = error.violations
    print(violation.rule.code, violation.rule.slug, violation.rule.docs_url)
    print(violation.site)
    print(json.dumps(violation.to_dict(), indent=2))
