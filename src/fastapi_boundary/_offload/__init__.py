"""The one explicit boundary: thread offload, the ``to_async`` proxy, offloaded dependencies,
process targets and the process pool."""
