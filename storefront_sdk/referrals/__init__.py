"""Referrals: who brought a customer and who a sale is credited to.

- :mod:`.attribution`: referral links (``/r/<code>``), the visits they record and the
  signed share tokens that carry them to checkout;
- :mod:`.credit`: the credit decision of a sale (binding, referral link, shop, self);
- :mod:`.binding`: customers bound to a distributor, and the history of each binding.
"""
