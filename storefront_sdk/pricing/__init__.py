"""Pricing: the one rule that a shop price covers the supply price, both commission levels
and the platform's part (``docs/architecture.md``, invariant 2).

- :mod:`.prices`: a shop's price for a variant and how one unit of it splits;
- :mod:`.rates`: the commission rates at every scope (product, category, supplier,
  platform), the most specific winning;
- :mod:`.breakdown`: an order line's price breakdown (:class:`.breakdown.LineBreakdown`)
  and how a refund takes each part back.

Nothing here knows a shop, an order or a request: callers pass the variant's bounds, the
rates and the price. Promotions plug their discounts in at :class:`.breakdown.LineBreakdown`.
"""
