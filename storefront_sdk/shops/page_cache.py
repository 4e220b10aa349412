"""The shop pages' cache in each process, and how every process learns of changes.

Parts of pages (see :mod:`.reader`) are kept up to ``STOREFRONT_PAGE_CACHE_SECONDS``, but a
committed change to the catalogue or to any shop clears the cache of every process at once:

- this process's own commits through the library clear it as they commit (engine events,
  :meth:`PageCache.watch`, and :func:`..db.note_page_data_write` for raw bulk writes);
- on PostgreSQL, triggers on the :data:`WATCHED_TABLES` (migration 0004) send
  ``NOTIFY storefront_page_cache`` for every statement writing to them, whoever runs it;
  the notification is delivered when the transaction commits (never if it rolls back), and
  each process keeps one connection ``LISTEN``-ing; every shop page starts by reading what
  arrived (:meth:`PageCache.sync`, a non-blocking socket read);
- on SQLite, each process asks ``PRAGMA data_version`` of its own connection at every page,
  which changes when any other connection committed.

Other processes' changes thus show as soon as the notification has arrived (PostgreSQL
delivers it right after the commit) or at once (SQLite). When a process cannot follow (its
listening connection broke) it reads the database for every page until it listens again,
and clears its cache then. A connection the network drops silently (no reset) is noticed
only by TCP keepalives: set ``keepalives_idle`` and friends in the engine's
``connect_args`` where firewalls cut idle connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, TypeVar

import cachetools
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..db import WROTE_PAGE_DATA, note_page_data_write

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Tables whose committed changes clear every process's cache.
WATCHED_TABLES = frozenset(
    {
        "sf_category",
        "sf_product",
        "sf_variant",
        "sf_shop",
        "sf_shop_follow",
        "sf_shop_product",
        "sf_shop_price",
        "sf_distributor",
        "sf_commission_rate",
    }
)
#: The PostgreSQL notification channel of changes.
CHANNEL = "storefront_page_cache"
#: Entries kept per kind of part (least recently used go first).
MAX_ENTRIES = 20_000
#: The category tree is reloaded for an unknown category id at most this often (seconds).
TREE_RELOAD_INTERVAL = 1.0
#: Seconds between attempts to reconnect a lost listening connection.
RECONNECT_INTERVAL = 5.0


class ChangeFeed(Protocol):
    """How a process learns that other processes changed something."""

    def poll(self) -> bool | None:
        """``True``: something changed since the last poll (or it cannot be known what was
        missed); ``False``: nothing did; ``None``: changes cannot be followed now."""

    def close(self) -> None:
        """Releases its connection (the engine is disposed of)."""


class LocalOnly:
    """No other process can change the data (an in-memory SQLite database)."""

    def poll(self) -> bool | None:
        return False

    def close(self) -> None:
        pass


class PostgresNotifications:
    """``NOTIFY`` from writers, one ``LISTEN``-ing connection per process."""

    def __init__(self, engine: Engine, timer: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.timer = timer
        self._connection: Any = None
        self._pid = 0
        self._retry_at = 0.0
        self._ending = False

    def poll(self) -> bool | None:
        if self._pid != os.getpid():  # a forked worker does not share its parent's socket
            self._connection, self._pid = None, os.getpid()
        if self._connection is None:
            return self._connect()
        try:
            changed = any(True for _ in self._connection.notifies(timeout=0))
        except Exception:  # the connection is gone: pages read the database until it is back
            log.warning("lost the page cache's notification connection", exc_info=True)
            self._close()
            return None
        if self._ending:
            log.warning("the server ended the page cache's notification connection")
            self._close()
            return None
        return changed

    def _on_notice(self, diagnostic: Any) -> None:
        # A server ending a connection (pg_terminate_backend, shutdown) says so first, and
        # libpq hands that message on an idle connection over as a notice: the closed socket
        # itself only shows at a later read, which would report "nothing changed" meanwhile.
        if diagnostic.severity_nonlocalized in ("FATAL", "PANIC"):
            self._ending = True

    def _connect(self) -> bool | None:
        now = self.timer()
        if now < self._retry_at:
            return None
        try:
            pooled = self.engine.raw_connection()
            pooled.detach()  # it stays out of the pool for good
            connection = pooled.dbapi_connection
            assert connection is not None
            connection.autocommit = True
            self._ending = False
            connection.add_notice_handler(self._on_notice)
            connection.execute(f"LISTEN {CHANNEL}")
        except Exception:
            log.warning("cannot listen for page cache notifications", exc_info=True)
            self._retry_at = now + RECONNECT_INTERVAL
            return None
        self._connection = connection
        return True  # whatever happened before listening is unknown

    def _close(self) -> None:
        self.close()
        self._retry_at = self.timer() + RECONNECT_INTERVAL

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):  # broken already: nothing more to do
                connection.close()


class SQLiteDataVersion:
    """``PRAGMA data_version`` of a connection of this process's own: it changes when any
    other connection commits."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._version: int | None = None

    def poll(self) -> bool | None:
        try:
            if self._connection is None or self._pid != os.getpid():
                self._connection = sqlite3.connect(self.database, check_same_thread=False)
                self._pid, self._version = os.getpid(), None
            version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            log.warning("cannot read the SQLite data version", exc_info=True)
            self._connection = None
            return None
        changed = version != self._version
        self._version = version
        return changed

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def change_feed(engine: Engine) -> ChangeFeed:
    """The way processes sharing ``engine``'s database learn of each other's changes."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresNotifications(engine)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return SQLiteDataVersion(url.database)
    return LocalOnly()


class PageCache:
    """Parts of shop pages kept up to ``seconds`` (``0``: nothing is kept), cleared at every
    committed change (see the module). Safe to share between threads."""

    def __init__(
        self,
        seconds: float,
        *,
        maxsize: int = MAX_ENTRIES,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.timer = timer
        self.feed: ChangeFeed = LocalOnly()
        self._lock = threading.Lock()
        self._generation = 0
        self._following = True
        self._tree_loaded_at = -TREE_RELOAD_INTERVAL
        self._caches: dict[str, cachetools.TTLCache[Hashable, Any]] = {
            kind: cachetools.TTLCache(maxsize=maxsize, ttl=seconds or 1, timer=timer)
            for kind in ("shop", "product", "ids", "tree", "rates")
        }

    @property
    def enabled(self) -> bool:
        """Whether parts are kept now: caching is on and changes can be followed."""
        return self.seconds > 0 and self._following

    def sync(self) -> None:
        """Takes in other processes' changes; called as a page starts."""
        if self.seconds <= 0:
            return
        with self._lock:
            changed = self.feed.poll()
            self._following = changed is not None
            if changed or changed is None:
                self._clear()

    def clear(self) -> None:
        """Forgets everything (after a change)."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._generation += 1
        for cache in self._caches.values():
            cache.clear()

    def get(self, kind: str, key: Hashable, load: Callable[[], T], *, fresh: bool = False) -> T:
        """The cached ``kind`` part at ``key``, else ``load()``'s (then kept)."""
        if not self.enabled:
            return load()
        cache = self._caches[kind]
        with self._lock:
            generation = self._generation
            if not fresh:
                try:
                    found: T = cache[key]
                    return found
                except KeyError:
                    pass
        value = load()
        self.keep(kind, {key: value}, generation)
        return value

    def get_many(
        self,
        kind: str,
        keys: Sequence[Hashable],
        load: Callable[[list[Any]], dict[Any, Any]],
        *,
        fresh: bool = False,
    ) -> dict[Any, Any]:
        """The cached ``kind`` parts at ``keys``; the missing ones from one ``load(missing)``
        (keys it leaves out are remembered as absent: ``None``)."""
        if not self.enabled:
            return load(list(keys))
        cache = self._caches[kind]
        found: dict[Any, Any] = {}
        with self._lock:
            generation = self._generation
            if not fresh:
                for key in keys:
                    value = cache.get(key, cache)
                    if value is not cache:
                        found[key] = value
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = load(missing)
            fetched = {key: loaded.get(key) for key in missing}
            self.keep(kind, fetched, generation)
            found.update(fetched)
        return found

    @property
    def generation(self) -> int:
        """Changes with every clear; pass the value read before loading to :meth:`keep`."""
        return self._generation

    def keep(self, kind: str, values: dict[Hashable, Any], generation: int) -> None:
        """Keeps ``values`` loaded when the cache was at ``generation``."""
        with self._lock:
            # A load that raced a clear() may hold data older than the change: drop it.
            if generation == self._generation and self.enabled:
                self._caches[kind].update(values)

    def tree_reload_allowed(self) -> bool:
        """Whether the tree may be reloaded for an unknown category now (and note it)."""
        with self._lock:
            now = self.timer()
            if now - self._tree_loaded_at < TREE_RELOAD_INTERVAL:
                return False
            self._tree_loaded_at = now
            return True

    def watch(self, engine: Engine) -> None:
        """Follows the changes to ``engine``'s database: this process's commits clear the
        cache directly, other processes' through :func:`change_feed`."""
        self.feed = change_feed(engine)
        feed = self.feed

        @event.listens_for(engine, "after_cursor_execute")
        def _note_write(
            conn: sa.Connection,
            _cursor: Any,
            _statement: str,
            _parameters: Any,
            context: Any,
            _executemany: bool,
        ) -> None:
            if context is None or not (context.isinsert or context.isupdate or context.isdelete):
                return
            table = getattr(getattr(context.compiled, "statement", None), "table", None)
            if getattr(table, "name", None) not in WATCHED_TABLES:
                return
            if getattr(conn.connection.dbapi_connection, "autocommit", None) is True:
                self.clear()  # committed already
            else:
                note_page_data_write(conn)

        @event.listens_for(engine, "engine_disposed")
        def _disposed(_engine: Engine) -> None:
            feed.close()

        @event.listens_for(engine, "begin")
        def _began(conn: sa.Connection) -> None:
            conn.info.pop(WROTE_PAGE_DATA, None)

        @event.listens_for(engine, "commit")
        def _committed(conn: sa.Connection) -> None:
            # (Just before the database commits: a page loading meanwhile in another thread
            # may keep older rows; the feed's news of the commit clears them again.)
            if conn.info.pop(WROTE_PAGE_DATA, False):
                self.clear()

        @event.listens_for(engine, "rollback")
        def _rolled_back(conn: sa.Connection) -> None:
            conn.info.pop(WROTE_PAGE_DATA, None)
