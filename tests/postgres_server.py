"""A throwaway PostgreSQL server for one test run, so every database test also runs on the
database a class deployment uses.

It uses the PostgreSQL programs of the machine (Debian's ``postgresql`` package: ``initdb``,
``pg_ctl``; `make test` installs it on a bare CI machine). The cluster lives in a temporary
folder, listens on a free loopback port and trusts local connections; it is stopped and removed
when the run ends. PostgreSQL refuses to run as root, so under root the server runs as the
``postgres`` user that the package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DATABASE = "tutor_test"


class PostgresUnavailable(RuntimeError):
    """The server cannot be started here; the message says why and what to install."""


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    raise PostgresUnavailable(
        "no PostgreSQL server programs (pg_ctl, initdb) on this machine; install Debian's package with "
        "`apt-get install postgresql`, or set TUTOR_TEST_DATABASE_URL to a server of your own"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
        self.data = self.root / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server"
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [*self._as_user, str(self.bin_dir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            reason = output[-1] if output else f"exit status {done.returncode}"
            raise PostgresUnavailable(f"{program} failed: {reason}")

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)
        return self.url

    def stop(self) -> None:
        # Already gone is fine: the folder goes anyway.
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
