"""Signing in and out of the console, and signing up (through a recruiter's invite link, who
is recorded as the new distributor's recruiter, or not)."""

from __future__ import annotations

import math

from flask import Response, current_app, redirect, request, session, url_for
from sqlmodel import select

from ...db import begin_read
from ...errors import Conflict, NotFound, StorefrontError
from ...shops import accounts
from ...shops.models import Distributor, Shop
from .. import identity
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import JOIN_NAMESPACE, LOCALE_KEY, LOGIN_NAMESPACE, message_page, page, safe_next
from .forms import JoinForm, LoginForm, first_error


def login() -> Response:
    """Sign-in: the same answer for an unknown email and a wrong password; each attempt is
    counted before the password is checked, and past the limit (per account, and per
    client) it is 429 even with the right password."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return page("login.html", form=form, next_url=next_url)
    if not form.validate():
        return page("login.html", 422, form=form, next_url=next_url, error=first_error(form))
    email = (form.email.data or "").strip().lower()
    wait = identity.sign_in_wait(email, LOGIN_NAMESPACE)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        message = _(
            "Too many failed sign-in attempts. Please try again in %(minutes)s minutes.",
            minutes=minutes,
        )
        response = page("login.html", 429, form=form, next_url=next_url, error=message)
        response.headers["Retry-After"] = str(wait)
        return response
    session_ = get_session()
    begin_read(session_)
    found = accounts.authenticate_distributor(session_, email, form.password.data or "")
    if found is None:
        error = _("Wrong email or password.")
        return page("login.html", 401, form=form, next_url=next_url, error=error)
    identity.signed_in_as(email, LOGIN_NAMESPACE)
    start_session(found)
    return redirect(next_url or url_for(".home"), code=303)  # type: ignore[return-value]


def start_session(distributor: Distributor) -> None:
    """Signs ``distributor`` in on this browser, keeping the language it picked."""
    chosen = session.get(LOCALE_KEY)
    identity.sign_in(distributor)
    if chosen:
        session[LOCALE_KEY] = chosen


def logout() -> Response:
    """Signs out (POST only, with the CSRF token, so no link or image can do it) on every
    browser: the account's session generation moves on, so a copied cookie dies too."""
    claimed = identity.claimed_distributor_id()

    def end_sessions() -> Response:
        found = get_session().get(Distributor, claimed) if claimed is not None else None
        if found is not None and identity.check(found):
            accounts.end_sessions(found)
        return see_other(".login")

    response = commit_or_refuse(end_sessions, lambda error: see_other(".login"))
    identity.sign_out()
    return response


def join(code: str | None) -> Response:
    """Sign-up, through a recruiter's invite link (recorded as the parent) or not; each
    ``POST`` is counted first (``STOREFRONT_JOIN_RATE_LIMIT`` per client: 429 past it)."""
    if request.method == "POST":
        wait = identity.sign_up_wait(JOIN_NAMESPACE)
        if wait is not None:
            return _too_many_sign_ups(wait, code)
    session_ = get_session()
    if request.method == "GET":
        begin_read(session_)
    inviter = None
    if code is not None:
        try:
            inviter = _inviter(code)
        except NotFound:
            message = _("This invite link is not valid. Ask the person who sent it for a new one.")
            return message_page(message, 404)
    form = JoinForm()
    if request.method == "GET":
        return page("join.html", form=form, inviter=inviter, code=code)
    if not form.validate():
        return page(
            "join.html", 422, form=form, inviter=inviter, code=code, error=first_error(form)
        )
    return _sign_up(form, inviter, code)


def _sign_up(form: JoinForm, inviter: dict[str, str] | None, code: str | None) -> Response:
    """The new distributor, committed, then signed in; the form again if refused."""
    made: list[Distributor] = []

    def create() -> Response:
        signed_up = accounts.create_distributor(
            get_session(),
            form.email.data or "",
            form.password.data or "",
            name=form.name.data or "",
            shop_name=form.shop_name.data or None,
            parent_code=code,
            pending=current_app.config["STOREFRONT_DISTRIBUTOR_APPROVAL"],
        )
        made.append(signed_up.distributor)
        return see_other(".home")

    def refuse(error: StorefrontError) -> Response:
        if isinstance(error, Conflict):
            message = _("An account with this email address already exists. Sign in instead.")
            return page("join.html", 409, form=form, inviter=inviter, code=code, error=message)
        status = status_of(error) or 400
        return page("join.html", status, form=form, inviter=inviter, code=code, error=error.message)

    response = commit_or_refuse(create, refuse)
    if made and response.status_code < 400:
        start_session(made[0])
    return response


def _too_many_sign_ups(wait: int, code: str | None) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    message = _(
        "Too many sign-ups from here. Please try again in %(minutes)s minutes.", minutes=minutes
    )
    response = page("join.html", 429, form=JoinForm(), inviter=None, code=code, error=message)
    response.headers["Retry-After"] = str(wait)
    return response


def _inviter(code: str) -> dict[str, str]:
    """Who invites, as the sign-up page shows them."""
    session_ = get_session()
    found = accounts.find_by_code(session_, code)
    shop_name = session_.scalars(select(Shop.name).where(Shop.distributor_id == found.id)).first()
    return {"name": found.name, "shop_name": shop_name or ""}
