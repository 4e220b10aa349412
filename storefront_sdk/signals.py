"""Blinker signals an embedding app connects to, sent only after the change they announce
is committed (a rolled-back change sends nothing). A receiver that raises is logged
(``storefront_sdk.signals``) and the others still hear of the change.

Each is sent with the app as sender and keyword arguments::

    from storefront_sdk import signals

    @signals.order_paid.connect
    def thank(app, order_id, order_number, **extra):
        ...

- ``order_placed(order_id, order_number)``: a checkout made an order awaiting payment.
- ``order_paid(order_id, order_number)``: the payment is confirmed and the order handed off.
- ``order_expired(order_id, order_number)``: it was not paid in time; its stock is back.
- ``order_cancelled(order_id, order_number)``: cancelled by the consumer or platform.
- ``order_refunded(order_id, order_number, refund_id, amount_minor, currency)``: money went
  back to the consumer (part or all of the order).
- ``supplier_order_accepted / _shipped / _delivered / _cancelled(order_id, order_number,
  supplier_order_id, supplier_id)``: a supplier's part moved on (shipped also on partial
  shipments, with ``shipment_id``).
- ``commission_available(distributor_id, currency, amount_minor)``: ``settle`` made some of
  a distributor's commissions available (one signal per distributor and currency).
- ``payout_requested / payout_sent(payout_id, distributor_id, amount_minor, currency)``:
  a distributor asked for a payout; it was sent (a Stripe transfer, or marked paid).
"""

from __future__ import annotations

import logging
from typing import Any

from blinker import Namespace
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

order_placed = _signals.signal("order-placed")
order_paid = _signals.signal("order-paid")
order_expired = _signals.signal("order-expired")
order_cancelled = _signals.signal("order-cancelled")
order_refunded = _signals.signal("order-refunded")
supplier_order_accepted = _signals.signal("supplier-order-accepted")
supplier_order_shipped = _signals.signal("supplier-order-shipped")
supplier_order_delivered = _signals.signal("supplier-order-delivered")
supplier_order_cancelled = _signals.signal("supplier-order-cancelled")
commission_available = _signals.signal("commission-available")
payout_requested = _signals.signal("payout-requested")
payout_sent = _signals.signal("payout-sent")

log = logging.getLogger(__name__)

_PENDING = "storefront_pending_signals"
_APP = "storefront_app"


def send_after_commit(session: Session, signal: Any, **kwargs: Any) -> None:
    """Send ``signal`` with ``kwargs`` once ``session``'s transaction commits."""
    session.info.setdefault(_PENDING, []).append((signal, kwargs))


def bind(sessions: Any, app: Flask) -> None:
    """Make the sessions of ``sessions`` (a sessionmaker) send their pending signals after
    commit, with ``app`` as sender."""
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_soft_rollback", _after_rollback)
    sessions.kw.setdefault("info", {})[_APP] = app


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    app = session.info.get(_APP)
    for signal, kwargs in pending:
        for receiver in signal.receivers_for(app):
            # The change is committed: a receiver's failure (a mail server down) must not
            # turn it into an error, nor keep the other receivers from hearing of it.
            try:
                receiver(app, **kwargs)
            except Exception:
                log.exception("a receiver of %s failed", signal.name)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_PENDING, None)
