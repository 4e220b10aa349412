"""The payouts page's account section: where the distributor's manual payouts are paid (a
bank account or Alipay), shown masked, and changing it (each change recorded by
:mod:`storefront_sdk.commissions.payout_accounts`).

Behind the console's sign-in and CSRF checks; only the signed-in distributor's own account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from ...commissions.payout_accounts import (
    AccountKind,
    PayoutAccountError,
    account_changes,
    check_account,
    mask,
    payout_account_of,
    set_payout_account,
)
from ...db import utcnow
from ...errors import StorefrontError
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import me

#: The form's fields, as posted.
FIELDS = ("kind", "holder_name", "bank_name", "account_number")


def _field_messages() -> dict[str, str]:
    return {
        "kind": _("Choose a bank account or Alipay."),
        "holder_name": _("The account holder's name must be 1 to 100 characters."),
        "bank_name": _("The bank's name must be 2 to 100 characters."),
        "account_number": _(
            "A bank account number is 8 to 30 digits; an Alipay id is a mobile number or an "
            "email address."
        ),
    }


def account_section(typed: dict[str, str] | None = None) -> dict[str, Any]:
    """What the payouts page shows of the distributor's payout account: the account
    (masked), its latest changes, and the form (refilled with ``typed`` after a refusal)."""
    session, distributor_id = get_session(), me().id or 0
    account = payout_account_of(session, distributor_id)
    kinds: dict[str, str] = {AccountKind.BANK: _("Bank account"), AccountKind.ALIPAY: _("Alipay")}
    shown = None
    if account is not None:
        shown = {
            "kind": kinds.get(account.kind, account.kind),
            "holder_name": account.holder_name,
            "bank_name": account.bank_name,
            "number": mask(account.account_number),
        }
    typed = typed or {
        "kind": account.kind if account else AccountKind.BANK,
        "holder_name": account.holder_name if account else "",
        "bank_name": (account.bank_name or "") if account else "",
        "account_number": "",
    }
    return {
        "account": shown,
        "account_kinds": kinds,
        "account_form": typed,
        "account_saved": request.args.get("account_saved") == "1",
        "account_changes": [
            {
                "when": change.changed_at.date().isoformat() if change.changed_at else "",
                "kind": kinds.get(change.kind, change.kind),
                "masked": change.masked,
                "replaced": change.replaced,
            }
            for change in account_changes(session, distributor_id)
        ],
    }


def save_payout_account(refused_page: Callable[[str, dict[str, str]], Response]) -> Response:
    """Set or change where payouts are paid; refused field by field with
    ``refused_page(message, typed)`` (the payouts page again)."""
    typed = {name: request.form.get(name, "") for name in FIELDS}

    def save() -> Response:
        details = check_account(
            typed["kind"], typed["holder_name"], typed["bank_name"], typed["account_number"]
        )
        set_payout_account(get_session(), me().id or 0, details, utcnow())
        return see_other(".payouts_page", account_saved=1)

    def refuse(error: StorefrontError) -> Response:
        text = error.message
        if isinstance(error, PayoutAccountError):
            text = _field_messages().get(error.field, error.message)
        typed["account_number"] = ""  # (never echoed back into the page)
        return refused_page(text, typed)

    return commit_or_refuse(save, refuse)
