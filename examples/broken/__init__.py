"""The bookshop's classic mistakes, one module each. Importing a module shows its error.

Every module except ``main`` raises a ``BoundaryError`` when it is imported,
on purpose: nothing else in the project imports them.  ``main`` imports
cleanly because it uses a plain ``fastapi.APIRouter``; its mistake is found
by ``check_app``, by ``fastapi-boundary check examples.broken.main:app`` and
by ``install(app)``, which refuses to start it.

Run ``python -m examples.broken`` to see every error in turn.
"""
