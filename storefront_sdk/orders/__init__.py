"""Checkout, orders, their split per supplier and the handoff to suppliers."""
