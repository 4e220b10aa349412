"""Payments: the provider interface (Stripe, the dev provider), a payment applied to its
order (the one place an order becomes paid), reconciliation, and the refunds owed made with
the provider."""
