"""The database session of the current request (or CLI command): opened on first use,
closed when the app context ends, committed only by whoever owns the unit of work
(:mod:`.transactions`)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def engine_for(app: Flask | None = None) -> Engine:
    """The storefront engine of ``app`` (default: the current app)."""
    app = app or current_app
    return app.extensions["storefront"].engine  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of the current app context, opened on first use, closed at teardown."""
    session: Session | None = g.get("_storefront_session")
    if session is None:
        session = current_app.extensions["storefront"].sessionmaker()
        g._storefront_session = session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Teardown hook: roll back whatever was not committed and release the connection."""
    session: Session | None = g.pop("_storefront_session", None)
    if session is not None:
        session.close()
