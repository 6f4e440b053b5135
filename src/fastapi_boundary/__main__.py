"""``python -m fastapi_boundary``: the same as the ``fastapi-boundary`` command."""

from .cli import main

raise SystemExit(main())
