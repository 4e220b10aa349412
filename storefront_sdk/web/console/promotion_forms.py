"""The console's promotion forms (Flask-WTF): a shop coupon and a shop spend-and-save (满减).
Amounts are typed in the currency's units and parsed by :mod:`..promotion_forms`; the
services check the terms again (:mod:`storefront_sdk.promotions.manage`)."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from ...i18n import lazy_gettext
from .forms import ConsoleForm

#: What a percent off must be.
PERCENT_MESSAGE = lazy_gettext("The percent off is a whole number from 1 to 100.")
#: How a coupon takes its discount off (values that are their own labels: the template
#: writes the labels).
DISCOUNT_KINDS: Any = ["amount", "percent"]
#: The most a count (uses, uses per consumer) may be.
MAX_COUNT = 10**9


def _name() -> StringField:
    return StringField(
        validators=[Optional(), Length(max=120, message=lazy_gettext("The name is too long."))]
    )


def _currency() -> StringField:
    return StringField(
        default="CNY",
        validators=[
            InputRequired(lazy_gettext("Give the currency, such as CNY.")),
            Regexp(r"^[A-Z]{3}$", message=lazy_gettext("Give the currency, such as CNY.")),
        ],
    )


def _time(message: Any) -> StringField:
    return StringField(validators=[InputRequired(message)])


def _count(message: Any) -> IntegerField:
    return IntegerField(validators=[Optional(), NumberRange(1, MAX_COUNT, message)])


class CouponForm(ConsoleForm):
    """A shop coupon: amount or percent off, from a minimum spend, a code or claimable."""

    name = _name()
    discount = SelectField(choices=DISCOUNT_KINDS, default="amount")
    amount_off = StringField(validators=[Optional(), Length(max=24)])
    percent_off = IntegerField(
        validators=[
            Optional(),
            NumberRange(1, 100, PERCENT_MESSAGE),
        ]
    )
    currency = _currency()
    min_spend = StringField(validators=[Optional(), Length(max=24)])
    code = StringField(
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z0-9_-]{3,32}$",
                message=lazy_gettext("A code is 3 to 32 letters, digits, - or _."),
            ),
        ]
    )
    claimable = BooleanField()
    max_uses = _count(lazy_gettext("Uses in all: a whole number from 1."))
    per_consumer = _count(lazy_gettext("Uses per consumer: a whole number from 1."))
    starts = _time(lazy_gettext("When does it start?"))
    ends = _time(lazy_gettext("When does it end?"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' checks, and a percent-off coupon has its percent."""
        valid: bool = super().validate(extra_validators)
        if valid and self.discount.data == "percent" and self.percent_off.data is None:
            self.percent_off.errors = [PERCENT_MESSAGE]
            return False
        return valid


class ThresholdForm(ConsoleForm):
    """A shop spend-and-save: its tiers come as ``spend_<n>`` / ``off_<n>``."""

    name = _name()
    currency = _currency()
    starts = _time(lazy_gettext("When does it start?"))
    ends = _time(lazy_gettext("When does it end?"))
