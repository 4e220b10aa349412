"""Orders: checkout (a cart becomes an order with its stock allocated), the order's state
machine and audit trail, stock allocation, expiry, and the refunds owed to consumers."""
