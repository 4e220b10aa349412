"""The consumer's address book in a shop (``/s/<slug>/account/addresses``): list, add, edit,
delete and choose the default. Only the signed-in consumer's own addresses are found:
another consumer's address id answers 404."""

from __future__ import annotations

import re

from flask import Response, abort, redirect, request, url_for

from ... import i18n
from ...consumers import addresses
from ...consumers.models import ConsumerAddress
from ...db import utcnow
from ...errors import NotFound, StorefrontError
from ..shop_reads import read_session, write_session
from ..transactions import commit_or_refuse
from .account import current_consumer, current_consumer_id, login_url, refusal_page
from .pages import check_csrf, no_store, page_locale, render

_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{4,30}")


def address_book(slug: str) -> Response:
    """The consumer's saved addresses, the default first."""
    consumer_id = current_consumer_id()
    if consumer_id is None:
        return redirect(login_url(request.path), code=303)  # type: ignore[return-value]
    found = addresses.addresses_of(read_session(), consumer_id)
    return no_store(render("account_addresses.html", addresses=found))


def new_address(slug: str) -> Response:
    """The form of a new address."""
    if current_consumer_id() is None:
        return redirect(login_url(request.path), code=303)  # type: ignore[return-value]
    return _form(None, {"country": "CN"}, {})


def edit_address(slug: str, address_id: int) -> Response:
    """The form of one of the consumer's addresses (404 if it is not theirs)."""
    consumer_id = current_consumer_id()
    if consumer_id is None:
        return redirect(login_url(request.path), code=303)  # type: ignore[return-value]
    address = _theirs(consumer_id, address_id)
    values = {name: str(getattr(address, name)) for name in addresses.ADDRESS_FIELDS}
    return _form(address_id, values, {})


def save_new_address(slug: str) -> Response:
    """Saves a new address (the first becomes the default)."""
    return _save(None)


def save_address(slug: str, address_id: int) -> Response:
    """Saves the changes of one of the consumer's addresses."""
    return _save(address_id)


def delete_address(slug: str, address_id: int) -> Response:
    """Deletes one of the consumer's addresses."""
    return _change(address_id, addresses.remove_address)


def make_default_address(slug: str, address_id: int) -> Response:
    """Makes one of the consumer's addresses the default."""
    return _change(address_id, addresses.set_default_address)


def _theirs(consumer_id: int, address_id: int) -> ConsumerAddress:
    try:
        return addresses.find_address(read_session(), consumer_id, address_id)
    except StorefrontError:
        abort(404)


def _form(
    address_id: int | None, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    response = render(
        "account_address_form.html",
        status=status,
        address_id=address_id,
        values=values,
        errors=errors,
    )
    return no_store(response)


def _save(address_id: int | None) -> Response:
    consumer_id = current_consumer_id()
    if consumer_id is None:
        return redirect(login_url(), code=303)  # type: ignore[return-value]
    values = {
        name: " ".join(request.form.get(name, "").split()) for name in addresses.ADDRESS_FIELDS
    }
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _form(address_id, values, {"form": error.message}, status=422)
        errors = address_errors(values)
        if errors:
            return _form(address_id, values, errors, status=422)

        def save() -> Response:
            db = write_session()
            if address_id is None:
                addresses.add_address(db, consumer_id, values, utcnow())
            else:
                addresses.change_address(db, consumer_id, address_id, values)
            return redirect(url_for("storefront_shop.address_book"), code=303)  # type: ignore[return-value]

        return commit_or_refuse(save, lambda error: _save_refused(address_id, values, error))


def _save_refused(
    address_id: int | None, values: dict[str, str], error: StorefrontError
) -> Response:
    if isinstance(error, NotFound):
        abort(404)
    message = i18n.gettext(
        "An address book holds at most %(count)s addresses.", count=addresses.MAX_ADDRESSES
    )
    return _form(address_id, values, {"form": message}, status=422)


def _change(address_id: int, change: addresses.AddressChange) -> Response:
    consumer_id = current_consumer_id()
    if consumer_id is None:
        return redirect(login_url(), code=303)  # type: ignore[return-value]
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return refusal_page(error.message, 422)

        def work() -> Response:
            change(write_session(), consumer_id, address_id)
            return redirect(url_for("storefront_shop.address_book"), code=303)  # type: ignore[return-value]

        return commit_or_refuse(work, _not_theirs)


def _not_theirs(error: StorefrontError) -> Response:
    abort(404)


def address_errors(values: dict[str, str]) -> dict[str, str]:
    """Messages of the address fields that are not acceptable, by field (``country`` is
    upper-cased in ``values``)."""
    errors: dict[str, str] = {}
    for name, longest in addresses.ADDRESS_FIELDS.items():
        if len(values[name]) > longest:
            errors[name] = i18n.gettext("At most %(count)s characters.", count=longest)
    for name in addresses.REQUIRED:
        if not values[name]:
            errors.setdefault(name, i18n.gettext("Required."))
    if values["phone"] and not _PHONE.fullmatch(values["phone"]):
        errors.setdefault("phone", i18n.gettext("This is not a phone number."))
    values["country"] = values["country"].upper()
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors.setdefault("country", i18n.gettext("A two-letter country code, e.g. CN."))
    return errors


def checkout_prefill(chosen: str | None) -> tuple[dict[str, str], list[ConsumerAddress]]:
    """For a signed-in consumer's checkout: the form's values (their verified contact and
    the address ``chosen`` by id, else their default one) and their saved addresses; for a
    guest, nothing."""
    consumer = current_consumer()
    if consumer is None:
        return {}, []
    saved = saved_addresses()
    values = {"email": consumer.email or "", "phone": consumer.phone or ""}
    picked = next((a for a in saved if chosen and str(a.id) == chosen), None)
    picked = picked or next((a for a in saved if a.is_default), None)
    if picked is not None:
        values = {**addresses.as_order_address(picked), **values}
        values["phone"] = values["phone"] or picked.phone
        values["address_id"] = str(picked.id)
    return values, saved


def saved_addresses() -> list[ConsumerAddress]:
    """The signed-in consumer's saved addresses (none for a guest)."""
    consumer_id = current_consumer_id()
    return [] if consumer_id is None else addresses.addresses_of(read_session(), consumer_id)
