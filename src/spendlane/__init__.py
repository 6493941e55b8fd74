"""spendlane: what every AI coding agent call costs, kept in a durable ledger."""

__version__ = "0.1.0"
