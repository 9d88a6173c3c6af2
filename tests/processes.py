"""The services as separate OS processes (``iso20400 serve NAME``), as containers run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.embedded import free_port
from shared.settings import Settings

NAMES = ("invitations", "responses", "scoring", "documents")


class ServiceProcesses:
    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.ports = {name: free_port() for name in NAMES}
        self.procs: dict[str, subprocess.Popen] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env(self) -> dict[str, str]:
        s = self.settings
        return os.environ | {
            "ISO20400_NATS_URL": s.nats_url, "ISO20400_DATABASE_URL": s.database_url,
            "ISO20400_SECRET_KEY": s.secret_key, "ISO20400_BUS_NAMESPACE": s.bus_namespace,
            "ISO20400_SMTP_HOST": s.smtp_host, "ISO20400_SMTP_PORT": str(s.smtp_port),
            "ISO20400_BASE_URL": self.url("responses"), "ISO20400_RELAY_INTERVAL": str(s.relay_interval), "ISO20400_ACK_WAIT": str(s.ack_wait),
            "ISO20400_DOCUMENT_WORKERS": "1",
            "ISO20400_LINK_GUESSES_PER_MINUTE": str(s.link_guesses_per_minute),
        }

    def start(self, name: str, *, wait: bool = True) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name, "--port", str(self.ports[name])],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; log:\n{self.log(name)}")
            try:
                if httpx.get(f"{self.url(name)}/{name}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become healthy; log:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
