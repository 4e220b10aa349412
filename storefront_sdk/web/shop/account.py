"""The consumer's account in a shop's own branding: "Sign in" by one-time code
(``/s/<slug>/account/login``: the contact, then the code), "My account"
(``/s/<slug>/account/``), "My orders" (``/s/<slug>/account/orders``) and signing out.

The session key :data:`~.pages.CONSUMER_KEY` (``"sf_consumer_id"``) holds the signed-in
consumer; :func:`current_consumer_id` checks it. Codes, their limits and their hashing are
:mod:`storefront_sdk.consumers.codes`'; a guest's earlier orders with the same contact join
the consumer when they sign in (:func:`storefront_sdk.orders.owners.join_guest_orders`).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, redirect, request, session, url_for

from ... import i18n
from ...consumers import codes
from ...consumers.codes import SignInContact
from ...consumers.models import Consumer
from ...db import session_scope, utcnow
from ...errors import StorefrontError
from ...messages import SMS, Message, channels_of, sms
from ...orders.models import Order
from ...orders.owners import join_guest_orders
from ...promotions.models import CouponClaim, Promotion
from ...ratelimit import Limit
from ...sql import table_of
from ..shop_reads import page_state, read_session, write_session
from ..transactions import commit_or_refuse
from .pages import (
    CONSUMER_KEY,
    check_csrf,
    claimed_consumer_id,
    current_shop,
    no_store,
    page_locale,
    render,
)

log = logging.getLogger(__name__)

#: Session key of the contact a code was just sent to (``"<kind>:<value>"``).
PENDING_KEY = "sf_sign_in_contact"
#: Orders shown on "My account", and at most on "My orders".
RECENT_ORDERS = 5
MAX_ORDERS = 100
#: A path of this site to go on to after signing in (no scheme, host, backslash or
#: control character).
_NEXT = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,499}")
_CODE = re.compile(rf"[0-9]{{{codes.CODE_DIGITS}}}")
_order = table_of(Order).c


def current_consumer_id() -> int | None:
    """The consumer signed in to the shops in this browser, if the session claims one that
    exists (checked once per request)."""
    claimed = claimed_consumer_id()
    if claimed is None:
        return None
    state = page_state()
    if state.get("consumer_checked") != claimed:
        found = read_session().scalar(
            sa.select(table_of(Consumer).c.id).where(table_of(Consumer).c.id == claimed)
        )
        state["consumer_checked"], state["consumer_id"] = claimed, found
    found_id: int | None = state["consumer_id"]
    return found_id


def current_consumer() -> Consumer | None:
    """The signed-in consumer's row, if any."""
    consumer_id = current_consumer_id()
    return None if consumer_id is None else read_session().get(Consumer, consumer_id)


def login_url(next_path: str | None = None) -> str:
    """The sign-in page, coming back to ``next_path`` afterwards."""
    return url_for("storefront_shop.account_login", next=next_path or None)


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path of this site, else "My account"."""
    raw = (raw or "").strip()
    if _NEXT.fullmatch(raw) and not raw.startswith("//"):
        return raw
    return url_for("storefront_shop.account")


def account_login(slug: str) -> Response:
    """The "Sign in" page: the contact to send a code to."""
    if current_consumer_id() is not None:
        return redirect(safe_next(request.args.get("next")), code=303)  # type: ignore[return-value]
    return _contact_form({}, None)


def _contact_form(values: dict[str, str], error: str | None, status: int = 200) -> Response:
    response = render(
        "account_login.html",
        status=status,
        values=values,
        error=error,
        next_path=values.get("next", request.args.get("next", "")),
        by_phone=SMS in channels_of(_sender()),
    )
    return no_store(response)


def send_code(slug: str) -> Response:
    """Sends a code to the contact given (counted per contact and per client first), then
    asks for it. Every contact gets the same answer: no one learns who has an account."""
    values = {"contact": request.form.get("contact", "").strip()[:300]}
    values["next"] = request.form.get("next", "")[:500]
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _contact_form(values, error.message, status=422)
        contact = codes.contact_of(values["contact"])
        if contact is None:
            message = i18n.gettext("Enter an email address or a mobile phone number.")
            return _contact_form(values, message, status=422)
        if contact.kind == "phone" and SMS not in channels_of(_sender()):
            message = i18n.gettext("This shop cannot send text messages: use an email address.")
            return _contact_form(values, message, status=422)
        wait = _count_request(contact)
        if wait is not None:
            response = _contact_form(values, _too_many(wait), status=429)
            response.headers["Retry-After"] = str(wait)
            return response
        issued: list[str] = []

        def issue() -> Response:
            issued.append(_issue(contact))
            target = url_for("storefront_shop.account_code", next=values["next"] or None)
            return redirect(target, code=303)  # type: ignore[return-value]

        response = commit_or_refuse(issue, lambda error: _contact_form(values, error.message, 422))
        if not issued:
            return response
        if not _send(contact, issued[0]):
            message = i18n.gettext("The code could not be sent. Please try again in a minute.")
            return _contact_form(values, message, status=503)
    session[PENDING_KEY] = f"{contact.kind}:{contact.value}"
    return response


def account_code(slug: str) -> Response:
    """The code's form, for the contact a code was just sent to."""
    contact = _pending()
    if contact is None:
        return redirect(login_url(request.args.get("next")), code=303)  # type: ignore[return-value]
    return _code_form(contact, None)


def _code_form(contact: SignInContact, error: str | None, status: int = 200) -> Response:
    minutes = current_app.config["STOREFRONT_SIGN_IN_CODE_MINUTES"]
    response = render(
        "account_code.html",
        status=status,
        contact=contact,
        error=error,
        minutes=minutes,
        next_path=request.values.get("next", "")[:500],
    )
    return no_store(response)


def verify_code(slug: str) -> Response:
    """Signs in with the code (the try counted first), joins the consumer's guest orders and
    goes on to where they were going."""
    contact = _pending()
    if contact is None:
        return redirect(login_url(), code=303)  # type: ignore[return-value]
    typed = "".join(request.form.get("code", "").split())[:20]
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _code_form(contact, error.message, status=422)
        if not _CODE.fullmatch(typed):
            message = i18n.gettext(
                "Enter the %(count)s digits of the code we sent.", count=codes.CODE_DIGITS
            )
            return _code_form(contact, message, status=422)
        secret = current_app.secret_key or ""
        with session_scope(current_app._get_current_object()) as counting:  # type: ignore[attr-defined]
            code_id = codes.count_try(counting, contact, secret, utcnow())
        signed_in: list[int] = []

        def sign_in() -> Response:
            db = write_session()
            now = utcnow()
            consumer_id = codes.sign_in_with_code(db, code_id, contact, typed, secret, now)
            join_guest_orders(db, consumer_id, contact.email, contact.phone)
            signed_in.append(consumer_id)
            return redirect(safe_next(request.form.get("next")), code=303)  # type: ignore[return-value]

        response = commit_or_refuse(sign_in, lambda error: _refused(contact, error))
    if signed_in:
        session.pop(PENDING_KEY, None)
        session.pop("csrf_token", None)  # a new form token for the signed-in session
        session[CONSUMER_KEY] = signed_in[0]
    return response


def refusal_page(message: str, status: int) -> Response:
    """A small page of the account saying why something was refused, with a way back."""
    return no_store(render("account_message.html", status=status, message=message))


def _refused(contact: SignInContact, error: StorefrontError) -> Response:
    if isinstance(error, codes.CodeRefused) and error.reason == "wrong":
        message = i18n.gettext("That code is not right. Check the message and try again.")
    else:
        message = i18n.gettext(
            "This code has expired or has been used up. Please ask for a new code."
        )
    return _code_form(contact, message, status=422)


def sign_out(slug: str) -> Response:
    """Signs the consumer out of every shop in this browser."""
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return refusal_page(error.message, 422)
    session.pop(CONSUMER_KEY, None)
    return redirect(url_for("storefront_shop.home"), code=303)  # type: ignore[return-value]


def account(slug: str) -> Response:
    """The "My account" page: the consumer's contact, recent orders in this shop, the
    coupons they claimed here that are still valid."""
    consumer = current_consumer()
    if consumer is None:
        return redirect(login_url(request.path), code=303)  # type: ignore[return-value]
    orders, more = _orders_of(consumer.id or 0, RECENT_ORDERS)
    response = render(
        "account.html",
        consumer=consumer,
        orders=orders,
        more_orders=more,
        coupons=_claimed_coupons(consumer.id or 0),
    )
    return no_store(response)


def account_orders(slug: str) -> Response:
    """The "My orders" page: the consumer's orders in this shop, newest first."""
    consumer_id = current_consumer_id()
    if consumer_id is None:
        return redirect(login_url(request.path), code=303)  # type: ignore[return-value]
    orders, more = _orders_of(consumer_id, MAX_ORDERS)
    return no_store(render("account_orders.html", orders=orders, more_orders=more))


def _orders_of(consumer_id: int, limit: int) -> tuple[list[Order], bool]:
    found = list(
        read_session().scalars(
            sa.select(Order)
            .where(_order.consumer_id == consumer_id, _order.shop_id == current_shop().id)
            .order_by(_order.created_at.desc(), _order.id.desc())
            .limit(limit + 1)
        )
    )
    return found[:limit], len(found) > limit


def _claimed_coupons(consumer_id: int) -> list[tuple[CouponClaim, Promotion]]:
    claim, promotion = table_of(CouponClaim).c, table_of(Promotion).c
    shop_id = current_shop().id
    rows = read_session().execute(
        sa.select(CouponClaim, Promotion)
        .join(Promotion, promotion.id == claim.promotion_id)
        .where(
            claim.consumer_id == consumer_id,
            sa.or_(claim.shop_id.is_(None), claim.shop_id == shop_id),
            sa.or_(promotion.shop_id.is_(None), promotion.shop_id == shop_id),
            promotion.ended_at.is_(None),
            promotion.ends_at > utcnow(),
        )
        .order_by(promotion.ends_at)
    )
    return [(row[0], row[1]) for row in rows]


def _pending() -> SignInContact | None:
    kind, _, value = str(session.get(PENDING_KEY) or "").partition(":")
    return SignInContact(kind, value) if kind in ("email", "phone") and value else None


def _sender() -> object:
    return current_app.extensions["storefront"].messages


def _count_request(contact: SignInContact) -> int | None:
    config = current_app.config
    limits = (
        Limit.parse(config["STOREFRONT_SIGN_IN_CODES_PER_CONTACT"]),
        Limit.parse(config["STOREFRONT_SIGN_IN_CODES_PER_CLIENT"]),
    )
    with session_scope(current_app._get_current_object()) as counting:  # type: ignore[attr-defined]
        return codes.count_request(
            counting,
            contact,
            request.remote_addr or "",
            limits,
            current_app.secret_key or "",
            utcnow(),
        )


def _issue(contact: SignInContact) -> str:
    minutes = current_app.config["STOREFRONT_SIGN_IN_CODE_MINUTES"]
    return codes.issue_code(
        write_session(), contact, current_app.secret_key or "", utcnow(), timedelta(minutes=minutes)
    )


def _send(contact: SignInContact, code: str) -> bool:
    """Sends ``code`` to ``contact`` in the page's language; whether it left."""
    minutes = current_app.config["STOREFRONT_SIGN_IN_CODE_MINUTES"]
    shop = current_shop().name
    subject = str(i18n.gettext("Your sign-in code for %(shop)s", shop=shop))
    text = str(
        i18n.gettext(
            "Your sign-in code for %(shop)s is %(code)s. It works once, for %(minutes)s "
            "minutes. If you did not ask for it, ignore this message.",
            shop=shop,
            code=code,
            minutes=minutes,
        )
    )
    message = (
        sms(contact.value, text, subject)
        if contact.phone
        else Message(contact.value, subject, text)
    )
    try:
        current_app.extensions["storefront"].messages.send(message)
    except Exception:  # the sender's own failure (a gateway down): the page says so
        log.exception("a sign-in code could not be sent")
        return False
    return True


def _too_many(wait: int) -> str:
    minutes = max(1, -(-wait // 60))
    text: str = i18n.gettext(
        "Too many codes were asked for. Please try again in %(minutes)s minutes.",
        minutes=minutes,
    )
    return text
