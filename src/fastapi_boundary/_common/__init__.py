"""The vocabulary every wing shares: modes, sites, declarations, errors, violations, fix texts,
policy, the blocking catalogue and the hooks the run-time wing registers into."""
