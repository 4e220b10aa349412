"""Commissions: the append-only ledger (earned, settled, reversed, paid out), payouts and
their providers, supplier statements and the distributor's reports. The rates are
:mod:`storefront_sdk.pricing`'s."""
