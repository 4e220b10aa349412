"""Reading shops for pages, through the app's page cache: what the shop pages and the
console share (the commission rates prices are checked against, the cached reader, the
request's read session), kept with the request rather than in ``g``, which one app context
may share between requests."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..db import begin_read
from ..pricing.rates import RateBook, default_rates, load_rate_book
from ..shops.page_cache import PageCache
from ..shops.reader import ShopReader
from .sessions import get_session


def page_state() -> dict[str, Any]:
    """What this request worked out so far (its shop, locale, links, share token, rates)."""
    found: dict[str, Any] = request.environ.setdefault("storefront.shop_page", {})
    return found


def read_session() -> Session:
    """The request's session, started as a read (once) when a page part must come from the
    database."""
    session_ = get_session()
    if not g.get("sf_read_begun"):
        g.sf_read_begun = True
        if not session_.in_transaction():  # (a console page may have begun it already)
            # Shop pages only read: no snapshot needed, so no BEGIN/ROLLBACK round trips.
            begin_read(session_, snapshot=False)
    return session_


def write_session() -> Session:
    """The request's session, ready to write: shop pages start theirs as a read (no
    snapshot, no write lock), which this ends."""
    db = get_session()
    db.rollback()
    g.sf_read_begun = True  # (what :func:`read_session` would begin as a read)
    return db


def shop_rates() -> RateBook:
    """The commission rates of every product, which shop prices are checked against (kept
    in the page cache; a change of rates clears it in every process)."""
    state = page_state()
    if "rates" not in state:
        cache: PageCache = current_app.extensions["storefront"].page_cache
        state["rates"] = cache.get(
            "rates", None, lambda: load_rate_book(read_session(), default_rates(current_app.config))
        )
    book: RateBook = state["rates"]
    return book


def reader(*, fresh: bool = False) -> ShopReader:
    """The shop pages' reads, through the app's page cache (``fresh``: bypassing it)."""
    cache: PageCache = current_app.extensions["storefront"].page_cache
    return ShopReader(cache, read_session, shop_rates(), fresh=fresh)
