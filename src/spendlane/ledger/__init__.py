"""The ledger: where every usage event is kept, forever, once."""

from spendlane.ledger.sqlite import FileCursor, LedgerError, SqliteLedger, WriteResult

__all__ = ["FileCursor", "LedgerError", "SqliteLedger", "WriteResult"]
