"""Commissions: rates per scope, the append-only ledger, settlement and payouts."""
