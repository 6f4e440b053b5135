"""Import-time and whole-app checks: declared layers, drivers, annotations, registries, rules,
route inspection, ``check_app``, the report and its renderings."""
