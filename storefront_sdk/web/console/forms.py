"""The console's forms (Flask-WTF): each carries a CSRF token and checks its own fields.

CSRF is always on for these forms, whatever ``WTF_CSRF_ENABLED`` says: a host app may switch
Flask-WTF's protection off for its own tests, never for the distributor's console. Field
messages are lazy strings of the library's domain, shown in the page's language.

No form has a shop field: the shop is always the signed-in distributor's.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from ...i18n import lazy_gettext
from ...shops.accounts import MIN_PASSWORD_LENGTH
from ...shops.curation import MAX_MARKUP_PERCENT, MIN_MARKUP_PERCENT
from ...shops.models import CURRENCY_DISPLAYS, FOLLOW_KINDS

#: Largest database id a form accepts (PostgreSQL ``bigint``).
MAX_ID = 2**63 - 1
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ConsoleForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Base of every console form: CSRF protected, always."""

    class Meta:
        csrf = True


def first_error(form: Any) -> str:
    """The first field error of a form that did not validate, as a message to show (kept
    lazy: it is written in the language of the page that shows it)."""
    for errors in form.errors.values():
        for error in errors:
            found: str = error
            return found
    message: str = lazy_gettext("Please check the form.")
    return message


def _choices(*values: str) -> Any:
    """Choices whose values are their own labels (the templates write the labels)."""
    return list(values)


def _id_field(message: Any) -> IntegerField:
    return IntegerField(validators=[InputRequired(message), NumberRange(1, MAX_ID, message)])


def _switch() -> SelectField:
    return SelectField(
        choices=_choices("on", "off"),
        validators=[InputRequired()],
    )


def _new_password() -> PasswordField:
    return PasswordField(
        validators=[
            InputRequired(lazy_gettext("Choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=lazy_gettext(
                    "The password must be at least %(count)s characters.",
                    count=MIN_PASSWORD_LENGTH,
                ),
            ),
        ]
    )


class LoginForm(ConsoleForm):
    email = StringField(
        validators=[
            InputRequired(lazy_gettext("Enter your email address and password.")),
            Length(max=254, message=lazy_gettext("Wrong email or password.")),
        ]
    )
    password = PasswordField(
        validators=[
            InputRequired(lazy_gettext("Enter your email address and password.")),
            Length(max=1024, message=lazy_gettext("Wrong email or password.")),
        ]
    )


class JoinForm(ConsoleForm):
    name = StringField(validators=[Length(max=100, message=lazy_gettext("Your name is too long."))])
    shop_name = StringField(
        validators=[Length(max=100, message=lazy_gettext("The shop name is too long."))]
    )
    email = StringField(
        validators=[
            InputRequired(lazy_gettext("Enter your email address.")),
            Length(max=254, message=lazy_gettext("This is not an email address.")),
            Regexp(_EMAIL, message=lazy_gettext("This is not an email address.")),
        ]
    )
    password = _new_password()


class ForgotPasswordForm(ConsoleForm):
    email = StringField(
        validators=[
            InputRequired(lazy_gettext("Enter your email address.")),
            Length(max=254, message=lazy_gettext("This is not an email address.")),
        ]
    )


class ResetPasswordForm(ConsoleForm):
    password = _new_password()


class ChangePasswordForm(ConsoleForm):
    current_password = PasswordField(
        validators=[
            InputRequired(lazy_gettext("Enter your current password.")),
            Length(max=1024, message=lazy_gettext("The current password is wrong.")),
        ]
    )
    password = _new_password()


#: Locales a shop can be set to; empty: each visitor's own language.
LOCALE_CHOICES = ("", "zh-Hans", "en")


class SettingsForm(ConsoleForm):
    name = StringField(
        validators=[
            InputRequired(lazy_gettext("The shop name must be 1 to 100 characters.")),
            Length(1, 100, lazy_gettext("The shop name must be 1 to 100 characters.")),
        ]
    )
    primary_color = StringField(
        validators=[
            InputRequired(lazy_gettext("The colour must look like #e4393c.")),
            Regexp(
                r"^#[0-9a-fA-F]{6}$", message=lazy_gettext("The colour must look like #e4393c.")
            ),
        ]
    )
    welcome_text = TextAreaField(
        validators=[
            Length(
                max=2000, message=lazy_gettext("The welcome text is limited to 2000 characters.")
            )
        ]
    )
    locale = SelectField(choices=_choices(*LOCALE_CHOICES))
    currency_display = SelectField(choices=_choices(*CURRENCY_DISPLAYS))
    #: Checked by the settings service (an unknown zone is refused there).
    time_zone = StringField(validators=[Optional()])
    host = StringField(
        validators=[
            Optional(),
            Length(max=253, message=lazy_gettext("This host name is too long.")),
        ]
    )


class LogoForm(ConsoleForm):
    logo = FileField(validators=[FileRequired(lazy_gettext("Choose an image file."))])


class IncludeForm(ConsoleForm):
    product_id = _id_field(lazy_gettext("Choose a product."))
    action = SelectField(choices=_choices("add", "remove"))


class FollowForm(ConsoleForm):
    kind = SelectField(choices=_choices(*FOLLOW_KINDS))
    target_id = _id_field(lazy_gettext("Choose a supplier or a category."))
    on = _switch()


class CatalogueForm(ConsoleForm):
    follows_all = _switch()


class PriceForm(ConsoleForm):
    variant_id = _id_field(lazy_gettext("Choose a variant."))
    price = StringField(
        validators=[Optional(), Length(max=24, message=lazy_gettext("This price is too long."))]
    )


class MarkupForm(ConsoleForm):
    percent = IntegerField(
        validators=[
            Optional(),
            NumberRange(
                MIN_MARKUP_PERCENT,
                MAX_MARKUP_PERCENT,
                lazy_gettext(
                    "The markup must be from %(low)s to %(high)s percent.",
                    low=MIN_MARKUP_PERCENT,
                    high=MAX_MARKUP_PERCENT,
                ),
            ),
        ]
    )


class PlainForm(ConsoleForm):
    """A form with nothing but its CSRF token (sign out, remove the logo)."""
