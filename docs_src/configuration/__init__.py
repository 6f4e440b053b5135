"""An app with a layer violation, audited in warn and off mode on the configuration page."""
