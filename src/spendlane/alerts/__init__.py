"""Alerts: raised once per crossing, remembered in the ledger, delivered through apprise."""
