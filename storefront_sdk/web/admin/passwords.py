"""Passwords in the admin: "Forgot password?" (a reset link by email, through the message
sender), the reset link's page, and the signed-in admin's password change (any role). A
reset or a change ends every session of the admin, the reset link's own included."""

from __future__ import annotations

from flask import Response, request, url_for

from ...db import begin_read
from ...errors import StorefrontError
from ...platform_admins import PlatformAdmin, find_admin_by_email
from ...shops import accounts
from .. import identity
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import Refuse, commit_or_refuse
from .access import RESET_NAMESPACE, locale, me, page


def _field(name: str, longest: int) -> str:
    return request.form.get(name, "")[:longest]


def forgot_password() -> Response:
    """Asks for the email and mails a reset link if it is an admin's; the answer is the
    same whether it is or not."""
    if request.method == "GET":
        return page("forgot.html")
    email = _field("email", 254).strip().lower()
    if not email:
        return page("forgot.html", 422, error=_("Enter your email address."))
    wait = identity.reset_request_wait(email, RESET_NAMESPACE)
    if wait is not None:
        response = page("forgot.html", 429, error=_("Too many attempts. Please try again later."))
        response.headers["Retry-After"] = str(wait)
        return response
    session_ = get_session()
    begin_read(session_)
    found = find_admin_by_email(session_, email)
    if found is not None:
        token = identity.reset_token(RESET_NAMESPACE, found)
        link = identity.public_url(url_for(".reset_password", token=token))
        identity.mail_reset_link(found.email, link, locale())
    return page("forgot.html", sent=True)


def _admin_of(token: str) -> PlatformAdmin | None:
    admin_id = identity.reset_token_account_id(RESET_NAMESPACE, token)
    found = get_session().get(PlatformAdmin, admin_id) if admin_id is not None else None
    if found is None or not identity.reset_token_fits(RESET_NAMESPACE, token, found):
        return None
    return found


def reset_password(token: str) -> Response:
    """The reset link's page: a new password, then signed in."""
    if request.method == "GET":
        begin_read(get_session())
    found = _admin_of(token)
    if found is None:
        message = _("This link has expired or was already used. Ask for a new one.")
        return page("forgot.html", 410, error=message)
    if request.method == "GET":
        return page("reset.html", token=token)

    def reset() -> Response:
        accounts.set_password(found, _field("password", 1024))
        return see_other(".home")

    response = commit_or_refuse(reset, _refuse_on("reset.html", token=token))
    if response.status_code < 400:
        identity.sign_in_admin(found)
    return response


def change_password() -> Response:
    """The signed-in admin's password: the current one, then the new one; every other
    session ends and this one goes on."""
    if request.method == "GET":
        return page("password.html", changed=bool(request.args.get("changed")))
    admin = me()
    if not accounts.password_matches(admin.password_hash, _field("current_password", 1024)):
        return page("password.html", 422, error=_("The current password is wrong."))

    def change() -> Response:
        accounts.set_password(admin, _field("password", 1024))
        return see_other(".change_password", changed=1)

    response = commit_or_refuse(change, _refuse_on("password.html"))
    if response.status_code < 400:
        identity.sign_in_admin(admin)
    return response


def _refuse_on(template: str, **context: object) -> Refuse:
    def refuse(error: StorefrontError) -> Response:
        message = _(
            "The new password must be %(low)s to %(high)s characters.",
            low=accounts.MIN_PASSWORD_LENGTH,
            high=1024,
        )
        shown = message if error.code == "validation_error" else error.message
        return page(template, status_of(error) or 400, error=shown, **context)

    return refuse
