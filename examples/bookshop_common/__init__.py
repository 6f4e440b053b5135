"""What both bookshops share: the tables, the HTTP schemas and the domain errors.

None of it does I/O, so none of it has a mode: the sync and the async shop
each bring their own repositories, services and routers.
"""
