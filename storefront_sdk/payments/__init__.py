"""Payments: the provider interface, the Stripe and dev providers, refunds."""
