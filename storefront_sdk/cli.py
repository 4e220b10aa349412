"""``flask storefront ...`` commands. Each prints JSON on stdout; bad arguments exit non-zero
with a one-line message on stderr."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from . import migrate
from .catalog.suppliers import (
    PREFIX_LENGTH,
    create_api_key,
    create_supplier,
    revoke_api_key_by_prefix,
)
from .config import transport_policy
from .db import session_scope, utcnow
from .errors import StorefrontError, ValidationError
from .promotions import manage as promotions
from .promotions.models import FUNDERS
from .shops.accounts import create_distributor
from .shops.models import Shop
from .web.sessions import engine_for


class _OneLineErrors(click.Group):
    """Usage errors (missing or malformed options) as one ``Error: ...`` line, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            command = f"{ctx.info_name} {exc.ctx.info_name}" if exc.ctx else ctx.info_name
            message = " ".join(exc.format_message().split())  # Choice lists span lines
            click.echo(f"Error: {command}: {message}", err=True)
            ctx.exit(2)


@click.group("storefront", cls=_OneLineErrors, help="storefront-sdk administration commands.")
def storefront_cli() -> None:
    """The command group registered on the app by ``Storefront.init_app``."""


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def json_command(func: Callable[..., Any]) -> Callable[..., None]:
    """Run ``func`` in the app context, print its result as JSON, turn errors into one line."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            result = func(*args, **kwargs)
        except StorefrontError as exc:
            _fail(exc.message)
        except SQLAlchemyError as exc:
            _fail(
                f"database error: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}"
            )
        click.echo(json.dumps(result, ensure_ascii=False))

    return with_appcontext(wrapper)


@storefront_cli.command("init-db")
@json_command
def init_db() -> dict[str, Any]:
    """Create or upgrade the storefront tables (safe to run again)."""
    migrate.upgrade(engine_for())
    return {"ok": True}


@storefront_cli.command("create-supplier")
@click.option("--name", required=True, help="Supplier's display name.")
@click.option("--currency", required=True, help="ISO 4217 code of its prices, e.g. CNY.")
@click.option("--webhook-url", default=None, help="Where order events are delivered.")
@json_command
def create_supplier_command(name: str, currency: str, webhook_url: str | None) -> dict[str, Any]:
    """Create a supplier and its first API key (shown once)."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        supplier = create_supplier(
            session,
            name,
            currency,
            webhook_url=webhook_url,
            policy=transport_policy(current_app.config),
        )
        _, raw = create_api_key(session, supplier.id or 0)
        created = {"id": supplier.id, "api_key": raw}
        if supplier.webhook_secret:
            created["webhook_secret"] = supplier.webhook_secret  # shown once, like the key
        return created


@storefront_cli.command("create-api-key")
@click.option("--supplier", "supplier_id", required=True, type=int, help="Supplier id.")
@json_command
def create_api_key_command(supplier_id: int) -> dict[str, Any]:
    """Create another API key for a supplier (shown once)."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        _, raw = create_api_key(session, supplier_id)
        return {"api_key": raw}


@storefront_cli.command("revoke-api-key")
@click.option("--supplier", "supplier_id", required=True, type=int, help="Supplier id.")
@click.option("--prefix", required=True, help="The key's visible prefix (sfk_...) or the key.")
@json_command
def revoke_api_key_command(supplier_id: int, prefix: str) -> dict[str, Any]:
    """Revoke a supplier's API key: requests with it are refused (401) at once."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        revoke_api_key_by_prefix(session, supplier_id, prefix, utcnow())
        return {"revoked": prefix[:PREFIX_LENGTH]}


@storefront_cli.command("create-distributor")
@click.option("--email", required=True, help="Sign-in email (case-insensitive).")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", default="", help="The distributor's name.")
@click.option("--shop-name", default=None, help="Shop name (default: the name or email).")
@click.option("--parent-code", default=None, help="Referral code of the recruiting distributor.")
@json_command
def create_distributor_command(
    email: str, password: str, name: str, shop_name: str | None, parent_code: str | None
) -> dict[str, Any]:
    """Create a distributor and their shop, optionally under a recruiter."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        signup = create_distributor(
            session, email, password, name=name, shop_name=shop_name, parent_code=parent_code
        )
        return {
            "id": signup.distributor.id,
            "shop_slug": signup.shop.slug,
            "referral_code": signup.distributor.referral_code,
        }


@storefront_cli.command("create-admin")
@click.option("--email", required=True, help="Sign-in email (case-insensitive).")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option(
    "--role",
    default="admin",
    show_default=True,
    type=click.Choice(["admin", "viewer"]),
    help="admin changes things; viewer only looks.",
)
@json_command
def create_admin_command(email: str, password: str, role: str) -> dict[str, Any]:
    """Create a platform admin for /admin/."""
    from .platform_admins import create_admin

    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        return {"id": create_admin(session, email, password, role).id}


@storefront_cli.command("settle")
@json_command
def settle_command() -> dict[str, Any]:
    """Make available the commissions of lines delivered at least the return window ago;
    then take back by transfer reversals what refunds left distributors owing (Stripe
    Connect payouts)."""
    from datetime import timedelta

    from .commissions.ledger import settle
    from .commissions.payouts import clawback

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["storefront"]
    window = timedelta(days=app.config["STOREFRONT_RETURN_WINDOW_DAYS"])
    with session_scope(app) as session:
        counts = settle(session, utcnow(), window, commit=session.commit).as_dict()
        counts["clawbacks"] = clawback(session, state.payouts, utcnow(), commit=session.commit)
    return counts


@storefront_cli.command("seed-demo")
@click.option(
    "--image-base",
    default="/demo-images",
    show_default=True,
    help="URL prefix of the generated product images.",
)
@json_command
def seed_demo_command(image_base: str) -> dict[str, Any]:
    """Create the demo supplier and a few dozen demo products, and the demo's accounts with
    their published passwords (safe to run again); only in demo mode."""
    from .testing.demo import seed_demo

    if not current_app.config["STOREFRONT_DEMO_MODE"]:
        _fail(
            "seed-demo creates accounts whose passwords are published: it runs only in demo "
            "mode (STOREFRONT_DEMO_MODE=1, as make demo sets it)"
        )

    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        return seed_demo(session, image_base)


@storefront_cli.command("expire-orders")
@json_command
def expire_orders_command() -> dict[str, Any]:
    """Expire unpaid orders past their expiry and give their stock back (first asking the
    payment provider whether they were paid after all, and about long-settling payments);
    then end the flash sales whose window is over, giving their unsold units back."""
    from .orders.expiry import expire_orders
    from .payments.service import reconcile_payments

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    provider = app.extensions["storefront"].payments
    with session_scope(app) as session:
        asked = reconcile_payments(
            session,
            {provider.name: provider} if provider is not None else {},
            utcnow(),
            commit=session.commit,
            binding_days=app.config["STOREFRONT_CUSTOMER_BINDING_DAYS"],
            binding_policy=app.config["STOREFRONT_CUSTOMER_BINDING_POLICY"],
        )
        expired = expire_orders(session, utcnow(), commit=session.commit)
        flash_sales_ended = promotions.end_expired_flash_sales(session, utcnow())
        session.commit()
    for order in expired:  # their unfinished payments can no longer succeed
        if provider is not None and order.payment_ref and order.payment_provider == provider.name:
            try:
                provider.cancel(order.payment_ref)
            except StorefrontError as exc:
                click.echo(f"warning: {exc.message}", err=True)
    return {
        "expired": len(expired),
        "paid_meanwhile": asked.get("paid", 0),
        "flash_sales_ended": flash_sales_ended,
    }


@storefront_cli.command("dispatch")
@click.option("--once", is_flag=True, help="Deliver what is due now, print counts and exit.")
@click.option("--batch", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Deliveries under way at once.",
)
@click.option(
    "--poll",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.01, 60),
    help="Seconds between looks at the outbox when it is empty.",
)
@with_appcontext
def dispatch_command(once: bool, batch: int, concurrency: int, poll: float) -> None:
    """Deliver due webhook events to suppliers (and due refunds); loops until stopped
    (SIGTERM/SIGINT finish the current delivery first) unless --once."""
    from .dispatcher import Dispatcher

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    dispatcher = Dispatcher(app, batch=batch, concurrency=concurrency)
    if once:
        try:
            counts = dispatcher.run_once()
        except SQLAlchemyError as exc:
            _fail(f"database error: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
        click.echo(json.dumps(counts))
        return
    dispatcher.run_forever(poll)


#: ``+2h``, ``+30m``: a time from now (days, hours, minutes or seconds).
_FROM_NOW = re.compile(r"\+([0-9]{1,6})([dhms])\Z")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
#: A coupon without ``--ends`` lasts this long from its start.
COUPON_DAYS = 30


class Moment(click.ParamType[datetime]):
    """A time ``T``: an RFC 3339 time with its offset, ``now``, or ``+2h`` / ``+30m`` /
    ``+45s`` / ``+7d`` from now."""

    name = "time"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        # One "now" per command, so --starts now --ends +2h last exactly two hours.
        now: datetime = ctx.meta.setdefault("storefront_now", utcnow()) if ctx else utcnow()
        if text == "now":
            return now
        found = _FROM_NOW.match(text)
        if found:
            return now + timedelta(**{_UNITS[found[2]]: int(found[1])})
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or "T" not in text.upper():
            self.fail(f"{text!r} is not an RFC 3339 time (with offset), now, +2h or +30m", param)
        return moment.astimezone(UTC)


def _shop_id(session: Any, slug: str | None) -> int | None:
    if slug is None:
        return None
    shop_id = session.scalar(sa.select(col(Shop.id)).where(col(Shop.slug) == slug.strip().lower()))
    if shop_id is None:
        raise ValidationError(f"no shop with slug {slug!r}")
    return int(shop_id)


_funder = click.option(
    "--funder", required=True, type=click.Choice(FUNDERS), help="Who pays for it."
)


@storefront_cli.command("create-coupon")
@_funder
@click.option(
    "--supplier",
    "supplier_id",
    type=int,
    help="Scope to (and, funder supplier, paid by) this supplier.",
)
@click.option("--shop", "shop_slug", help="The one shop it applies in (required for funder shop).")
@click.option("--percent-off", type=int, help="Percent off, 1 to 100.")
@click.option("--amount-off", type=int, help="Amount off, minor units.")
@click.option("--currency", help="Currency of its amounts (default: the supplier's).")
@click.option("--code", help="The code consumers type (3 to 32 letters, digits, hyphens).")
@click.option("--claimable", is_flag=True, help="Claimed from a link or the coupon centre.")
@click.option("--min-spend", type=int, default=0, help="Minimum spend in scope, minor units.")
@click.option("--max-uses", type=int, help="Uses in all.")
@click.option("--per-consumer", type=int, help="Uses per consumer.")
@click.option("--budget", type=int, help="Total discount it may give, minor units.")
@click.option("--starts", type=Moment(), default="now", help="T (default: now).")
@click.option("--ends", type=Moment(), help=f"T (default: {COUPON_DAYS} days after the start).")
@click.option("--name", help="What consumers see (default: made from its terms).")
@json_command
def create_coupon_command(
    funder: str,
    supplier_id: int | None,
    shop_slug: str | None,
    starts: datetime,
    ends: datetime | None,
    **terms: Any,
) -> dict[str, Any]:
    """Create a coupon; prints its id and code."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        coupon = promotions.create_coupon(
            session,
            funder=funder,
            created_by="cli",
            now=utcnow(),
            starts_at=starts,
            ends_at=ends or starts + timedelta(days=COUPON_DAYS),
            supplier_id=supplier_id,
            shop_id=_shop_id(session, shop_slug),
            **terms,
        )
        return {"id": coupon.public_id, "code": coupon.code}


@storefront_cli.command("create-flash-sale")
@_funder
@click.option("--supplier", "supplier_id", type=int, required=True, help="Whose SKU it is.")
@click.option("--sku", required=True, help="The variant's SKU.")
@click.option("--price", type=int, required=True, help="Sale price per unit, minor units.")
@click.option("--quota", type=int, required=True, help="Units reserved from stock for it.")
@click.option("--per-consumer", type=int, help="Units per consumer.")
@click.option("--starts", type=Moment(), required=True, help="T.")
@click.option("--ends", type=Moment(), required=True, help="T.")
@click.option("--name", help="What consumers see (default: made from the SKU).")
@json_command
def create_flash_sale_command(starts: datetime, ends: datetime, **terms: Any) -> dict[str, Any]:
    """Create a flash sale, reserving its quota from stock; prints its id."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        sale = promotions.create_flash_sale(
            session, created_by="cli", now=utcnow(), starts_at=starts, ends_at=ends, **terms
        )
        return {"id": sale.public_id}
