"""Passwords in the console: "Forgot password?" (a reset link by email, through the message
sender), the reset link's page, and the signed-in distributor's password change. A reset or
a change ends every session of the account, the reset link's own included."""

from __future__ import annotations

import math

from flask import Response, request, url_for

from ...db import begin_read
from ...errors import StorefrontError
from ...shops import accounts
from ...shops.models import Distributor
from .. import identity
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import Refuse, commit_or_refuse
from .access import RESET_NAMESPACE, locale, me, page
from .auth import start_session
from .forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm, first_error


def too_many(template: str, wait: int, **context: object) -> Response:
    """429 on ``template`` with ``Retry-After``: too many attempts from here."""
    message = _(
        "Too many attempts. Please try again in %(minutes)s minutes.",
        minutes=max(1, math.ceil(wait / 60)),
    )
    response = page(template, 429, error=message, **context)
    response.headers["Retry-After"] = str(wait)
    return response


def forgot_password() -> Response:
    """Asks for the email and mails a reset link if it is a distributor's; the answer is
    the same whether it is or not (no one learns who has an account)."""
    form = ForgotPasswordForm()
    if request.method == "GET":
        return page("forgot.html", form=form)
    if not form.validate():
        return page("forgot.html", 422, form=form, error=first_error(form))
    email = (form.email.data or "").strip().lower()
    wait = identity.reset_request_wait(email, RESET_NAMESPACE)
    if wait is not None:
        return too_many("forgot.html", wait, form=form)
    session_ = get_session()
    begin_read(session_)
    found = accounts.find_by_email(session_, email)
    if found is not None:
        token = identity.reset_token(RESET_NAMESPACE, found)
        link = identity.public_url(url_for(".reset_password", token=token))
        identity.mail_reset_link(found.email, link, locale())
    return page("forgot.html", form=form, sent=True)


def _account_of(token: str) -> Distributor | None:
    account_id = identity.reset_token_account_id(RESET_NAMESPACE, token)
    found = get_session().get(Distributor, account_id) if account_id is not None else None
    if found is None or not identity.reset_token_fits(RESET_NAMESPACE, token, found):
        return None
    return found


def reset_password(token: str) -> Response:
    """The reset link's page: a new password, then signed in (every other session and the
    link itself end)."""
    form = ResetPasswordForm()
    if request.method == "GET":
        begin_read(get_session())
    found = _account_of(token)
    if found is None:
        message = _("This link has expired or was already used. Ask for a new one.")
        return page("forgot.html", 410, form=ForgotPasswordForm(formdata=None), error=message)
    if request.method == "GET":
        return page("reset.html", form=form, token=token)
    if not form.validate():
        return page("reset.html", 422, form=form, token=token, error=first_error(form))

    def reset() -> Response:
        accounts.set_password(found, form.password.data or "")
        return see_other(".home")

    response = commit_or_refuse(reset, _refuse_on("reset.html", form, token=token))
    if response.status_code < 400:
        start_session(found)
    return response


def change_password() -> Response:
    """The signed-in distributor's password: the current one, then the new one; every
    other session ends and this one goes on."""
    form = ChangePasswordForm()
    if request.method == "GET":
        return page("password.html", form=form)
    if not form.validate():
        return page("password.html", 422, form=form, error=first_error(form))
    distributor = me()
    if not accounts.password_matches(distributor.password_hash, form.current_password.data or ""):
        return page("password.html", 422, form=form, error=_("The current password is wrong."))

    def change() -> Response:
        accounts.set_password(distributor, form.password.data or "")
        return see_other(".change_password", changed=1)

    response = commit_or_refuse(change, _refuse_on("password.html", form))
    if response.status_code < 400:
        start_session(distributor)
    return response


def _refuse_on(template: str, form: object, **context: object) -> Refuse:
    def refuse(error: StorefrontError) -> Response:
        return page(template, status_of(error) or 400, form=form, error=error.message, **context)

    return refuse
