"""The handoff to suppliers: the split of a paid order into supplier orders, the outbox and
its signed webhook deliveries, what suppliers do to their orders, and after-sales refunds."""
