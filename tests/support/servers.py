"""Servers the tests run beside the code under test (no tests here).

- ``Inbox``: a real SMTP server in-process (aiosmtpd on a free loopback port) that keeps what arrives;
  the ``smtp_server`` and ``mail`` fixtures (tests/conftest.py) start it.
- ``PrivateRedis`` / ``PrivatePostgres``: for the fault tests, which stop and restart their own server
  on a free port in a temporary directory, never the shared ones.  Either is skipped cleanly where its
  binaries are missing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what arrives.

    ``replies`` are answered to the first DATA commands instead of accepting them;
    ``hold`` names recipients whose RCPT TO is held until :meth:`release` (a sender
    stuck between claiming a message and delivering it).
    """

    replies: list[str] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)
    attempts: list[float] = field(default_factory=list)
    hold: set[str] = field(default_factory=set)
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.hold:
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts.append(time.monotonic())
            if self.replies:
                return self.replies.pop(0)
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def release(self) -> None:
        self.released.set()

    def to(self, address: str) -> list[Any]:
        return [m for m in self.received if m["To"] == address]


def parts(message) -> tuple[str, str]:
    """The plain-text and HTML bodies of a received message."""
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def start_smtp(inbox: Inbox):
    """Serve ``inbox`` over SMTP on a free loopback port (sets ``inbox.port``); returns the controller."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    return controller


def _wait_port(port: int, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not go {'up' if up else 'down'} within {timeout} s")


class PrivateRedis:
    """``redis-server`` on a free port, without persistence (a restart loses every job)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tempfile.gettempdir(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        _wait_port(self.port, up=False)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb into a temporary directory) on a free port.

    As root, the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).
    """

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
        self.bin = os.path.dirname(bins[-1])
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: can't start PostgreSQL as another user")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.dir = tempfile.mkdtemp(prefix="pt-fault-pg-")
        self.data, self.log = os.path.join(self.dir, "data"), os.path.join(self.dir, "server.log")
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, os.path.join(self.bin, tool), *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except AssertionError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
