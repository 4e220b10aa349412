"""Promotions and who pays for them (``docs/promotions.md``).

- :mod:`.models`: promotions (coupons, thresholds, flash sales), their usage per order and
  per consumer, coupons claimed by a consumer.
- :mod:`.manage`: creating (terms checked by :mod:`.terms`) and ending them, a flash sale's
  quota reserved from stock and given back, their figures; :mod:`.queries`: an owner's list.

Every promotion has exactly one funder, fixed at creation (``supplier``, ``shop`` or
``platform``); its discount on an order line comes out of that funder's part of the line
alone (:mod:`storefront_sdk.pricing.breakdown`).
"""
