"""A throwaway PostgreSQL cluster in a temporary directory, for tests and benchmarks.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user (the
Debian package creates it). Binaries are looked up in ``/usr/lib/postgresql/*/bin`` and on
``PATH``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresCluster:
    """A running cluster; :meth:`stop` removes everything."""

    directory: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server immediately and delete its files."""
        _run_as_owner(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``; RuntimeError if PostgreSQL is absent."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(os.path.realpath(on_path)).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")


def start_cluster(attempts: int = 3) -> PostgresCluster:
    """Create and start a cluster listening on a free loopback port.

    The port is free when chosen but could be taken before the server binds it (another
    test run starting at the same moment): then another port is tried.
    """
    bindir = find_bindir()
    directory = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    _run_as_owner(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        ]
    )
    for attempt in range(attempts):
        port = _free_port()
        options = (
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        try:
            _run_as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "log"),
                    "-w",
                    "start",
                    "-o",
                    options,
                ]
            )
            return PostgresCluster(directory, port, bindir)
        except subprocess.CalledProcessError:
            if attempt == attempts - 1:
                log = (directory / "log").read_text(errors="replace")[-2000:]
                shutil.rmtree(directory, ignore_errors=True)
                raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
    raise AssertionError("unreachable")


def _run_as_owner(command: list[str], *, check: bool = True) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
