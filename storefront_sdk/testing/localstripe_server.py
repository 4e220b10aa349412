"""A throwaway `localstripe <https://pypi.org/project/localstripe/>`_ server for tests.

localstripe is a fake, stateful Stripe API server. The official ``stripe`` SDK talks to it
when pointed at its URL (``stripe.StripeClient(api_key="sk_test_x",
base_addresses={"api": url})``, or the legacy ``stripe.api_base = url``); any ``sk_test_...``
key is accepted.

Run the server by hand with ``python -m storefront_sdk.testing.localstripe_server --port N``
(``--port 0`` picks a free port); it prints ``localstripe ready on http://HOST:PORT`` once it
listens. Unlike ``python -m localstripe`` it never reads or writes the fixed
``/tmp/localstripe.pickle`` (so parallel runs don't share or clobber state) and it listens on
``127.0.0.1`` only.

From Python, :func:`start` launches it in a subprocess and returns a :class:`LocalStripe`::

    server = start()
    try:
        client = stripe.StripeClient(api_key="sk_test_x", base_addresses={"api": server.url})
        ...
    finally:
        server.stop()

``localstripe`` (a dev dependency) is imported only by the server process, so this module
imports without it.

Besides localstripe's own ``POST /_config/webhooks/<id>`` (form fields ``url``, ``secret``,
optional ``events[]``) and ``DELETE /_config/data`` (empties the store but keeps webhook
registrations), this wrapper adds ``DELETE /_config/webhooks/<id>`` to drop one registration.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

READY_PREFIX = "localstripe ready on "
DEFAULT_HOST = "127.0.0.1"


class LocalStripeError(RuntimeError):
    """The server did not start, or a ``/_config`` call failed."""


class LocalStripe:
    """A running localstripe subprocess: :attr:`url` is its API base; :meth:`stop` ends it.

    Also a context manager that stops the server on exit.
    """

    def __init__(self, process: subprocess.Popen[bytes], url: str, logdir: Path) -> None:
        self.process = process
        self.url = url
        self._logdir = logdir

    @property
    def port(self) -> int:
        port = urllib.parse.urlsplit(self.url).port
        assert port is not None
        return port

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stderr (access log, webhook deliveries)."""
        return _tail(self._logdir / "stderr.log", lines)

    def reset(self) -> None:
        """See :func:`reset`."""
        reset(self.url)

    def register_webhook(
        self, webhook_id: str, url: str, secret: str, events: Sequence[str] | None = None
    ) -> None:
        """See :func:`register_webhook`."""
        register_webhook(self.url, webhook_id, url, secret, events)

    def unregister_webhook(self, webhook_id: str) -> None:
        """See :func:`unregister_webhook`."""
        unregister_webhook(self.url, webhook_id)

    def stop(self) -> None:
        """Terminate the server and delete its logs; safe to call twice."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _rmtree(self._logdir)

    def __enter__(self) -> LocalStripe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def reset(base_url: str) -> None:
    """Delete every object of the server at ``base_url`` (``DELETE /_config/data``).

    Webhook registrations are kept."""
    _config(base_url, "DELETE", "/_config/data")


def register_webhook(
    base_url: str,
    webhook_id: str,
    url: str,
    secret: str,
    events: Sequence[str] | None = None,
) -> None:
    """Have the server at ``base_url`` POST each new event to ``url``, signed with ``secret``
    (``POST /_config/webhooks/<webhook_id>``; registering an id again replaces it).

    Each event is sent about 1 s after it happens, to the webhooks registered *then*, so an
    event from just before registering may arrive too. ``events`` restricts the types sent.
    """
    fields: list[tuple[str, str]] = [("url", url), ("secret", secret)]
    fields += [("events[]", event) for event in events or ()]
    _config(base_url, "POST", f"/_config/webhooks/{webhook_id}", fields)


def unregister_webhook(base_url: str, webhook_id: str) -> None:
    """Forget a webhook registration (no-op if unknown). Needs this module's server."""
    _config(base_url, "DELETE", f"/_config/webhooks/{webhook_id}")


def _config(
    base_url: str, method: str, path: str, fields: Sequence[tuple[str, str]] | None = None
) -> None:
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        raise LocalStripeError(f"{method} {path} -> HTTP {e.code}: {body}") from e


def start(port: int | None = None, *, timeout: float = 15.0) -> LocalStripe:
    """Launch a localstripe server in a subprocess and wait until it answers HTTP.

    ``port=None`` lets the server pick a free port (no race with other processes). Raises
    :class:`LocalStripeError`, with the tail of the server's stderr, if it exits or does not
    answer within ``timeout`` seconds.
    """
    logdir = Path(tempfile.mkdtemp(prefix="localstripe-"))
    stdout_path = logdir / "stdout.log"
    stderr_path = logdir / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "storefront_sdk.testing.localstripe_server",
                "--port",
                str(port or 0),
                "--exit-on-stdin-eof",
            ],
            # The server exits when this pipe closes: on stop(), or if this process dies.
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def fail(reason: str) -> LocalStripeError:
        if process.stdin is not None:
            process.stdin.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        message = (
            f"localstripe {reason}\n--- server stdout ---\n{_tail(stdout_path, 10)}"
            f"\n--- server stderr (tail) ---\n{_tail(stderr_path, 30)}"
        )
        _rmtree(logdir)
        return LocalStripeError(message)

    deadline = time.monotonic() + timeout
    url: str | None = None
    while True:
        returncode = process.poll()
        if returncode is not None:
            raise fail(f"exited with status {returncode} before answering")
        if url is None:
            url = _ready_url(stdout_path)
        if url is not None and _answers(url):
            return LocalStripe(process, url, logdir)
        if time.monotonic() > deadline:
            raise fail(f"did not answer HTTP within {timeout:g} s")
        time.sleep(0.05)


def _ready_url(stdout_path: Path) -> str | None:
    for line in stdout_path.read_text(errors="replace").splitlines():
        if line.startswith(READY_PREFIX):
            return line[len(READY_PREFIX) :].strip()
    return None


def _answers(url: str) -> bool:
    """Whether the server answers HTTP at all (a 401 for an unauthenticated call counts)."""
    try:
        # ``url`` is the http:// URL the server printed.
        with urllib.request.urlopen(url + "/v1/customers", timeout=1) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def serve(host: str = DEFAULT_HOST, port: int = 0, *, exit_on_stdin_eof: bool = False) -> None:
    """Run localstripe in this process, without disk persistence, until SIGTERM or SIGINT
    (or, with ``exit_on_stdin_eof``, until standard input reaches end of file)."""
    import asyncio
    import logging
    import signal
    import threading

    try:
        from aiohttp import web
        from localstripe import (  # type: ignore[import-untyped,import-not-found]
            resources,
            server,
            webhooks,
        )
    except ImportError as e:
        raise SystemExit(
            f"localstripe is not installed ({e}): pip install 'storefront-sdk[dev]'"
        ) from e

    # localstripe pickles its whole store to a fixed /tmp/localstripe.pickle after every
    # change and reloads it on start: keep this server's state in memory only.
    def no_disk(self: Any) -> None:
        return None

    resources.Store.dump_to_disk = no_disk
    resources.Store.try_load_from_disk = no_disk

    async def drop_webhook(request: web.Request) -> web.Response:
        webhooks._webhooks.pop(request.match_info["id"], None)
        return web.Response()

    app: web.Application = server.app
    app.router.add_delete("/_config/webhooks/{id}", drop_webhook)

    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.DEBUG)
    access.addHandler(logging.StreamHandler())  # stderr: requests and webhook deliveries

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]

    async def run() -> None:
        runner = web.AppRunner(app, access_log=access)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        if exit_on_stdin_eof:

            def watch_stdin() -> None:
                while sys.stdin.buffer.read(4096):
                    pass
                loop.call_soon_threadsafe(stopping.set)

            threading.Thread(target=watch_stdin, daemon=True).start()
        print(f"{READY_PREFIX}http://{bound_host}:{bound_port}", flush=True)
        try:
            await stopping.wait()
        finally:
            await runner.cleanup()

    asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m storefront_sdk.testing.localstripe_server",
        description="Run localstripe (a fake Stripe API) with no disk persistence.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input closes (so the server dies with its parent)",
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, exit_on_stdin_eof=args.exit_on_stdin_eof)


if __name__ == "__main__":
    main()
