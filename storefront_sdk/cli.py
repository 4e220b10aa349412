"""``flask storefront ...`` commands. Each prints JSON on stdout; bad arguments exit non-zero
with a one-line message on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from . import migrate
from .catalog.suppliers import (
    PREFIX_LENGTH,
    create_api_key,
    create_supplier,
    revoke_api_key_by_prefix,
)
from .config import transport_policy
from .db import session_scope, utcnow
from .errors import StorefrontError
from .shops.accounts import create_distributor
from .web.sessions import engine_for


class _OneLineErrors(click.Group):
    """Usage errors (missing or malformed options) as one ``Error: ...`` line, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            command = f"{ctx.info_name} {exc.ctx.info_name}" if exc.ctx else ctx.info_name
            click.echo(f"Error: {command}: {exc.format_message()}", err=True)
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
    payment provider whether they were paid after all, and about long-settling payments)."""
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
    for order in expired:  # their unfinished payments can no longer succeed
        if provider is not None and order.payment_ref and order.payment_provider == provider.name:
            try:
                provider.cancel(order.payment_ref)
            except StorefrontError as exc:
                click.echo(f"warning: {exc.message}", err=True)
    return {"expired": len(expired), "paid_meanwhile": asked.get("paid", 0)}


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
