"""Reports: aggregation over the ledger, and renderers (JSON in ccusage's shape, tables)."""
