"""The message that tells a consumer their order is paid, in the language of the page the
order was placed on (``Order.locale``), with a link to follow it. The host app sends it
through the message sender (``app.extensions["storefront"].messages``) when ``order_paid``
arrives, after the payment is committed; the example shop does."""

from __future__ import annotations

from .. import i18n
from ..messages import Message
from ..money import Money, format_money
from .models import Order


def confirmation_message(order: Order, shop_name: str, order_link: str) -> Message | None:
    """The confirmation of ``order`` (of the shop ``shop_name``) linking to
    ``order_link``; ``None`` when the order has no email to send it to."""
    if not order.contact_email:
        return None
    total = format_money(Money(order.total_minor, order.currency), order.locale, "symbol")
    with i18n.locale_of_page(order.locale):
        subject = i18n.gettext(
            "%(shop)s: order %(number)s is paid", shop=shop_name, number=order.number
        )
        text = i18n.gettext(
            "Thank you for your order %(number)s (%(total)s).\n\nFollow it here: %(link)s\n",
            number=order.number,
            total=total,
            link=order_link,
        )
    return Message(order.contact_email, str(subject), str(text))
