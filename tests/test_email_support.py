"""Shared helpers for the batch-action, email and message tests: a real SMTP server in-process
(aiosmtpd on a free loopback port), users made through the services, and job helpers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from provisioning.services import users
from provisioning.activity import Actor

ADMIN = Actor("test admin", "api")


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


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    inbox.release()
    controller.stop()


@pytest.fixture
def mail(rt, smtp_server):
    """Point the runtime's mail settings at the in-process SMTP server, with fast retries."""
    for name, value in dict(smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", mail_from="lms@acme.test",
                            email_send_interval=0, email_retry_base_seconds=0.05, email_retry_max_seconds=0.2,
                            email_max_attempts=4).items():
        setattr(rt.settings, name, value)
    return smtp_server


def make_user(rt, tenant_id: int, name: str, **values: Any):
    values.setdefault("email", f"{name}@example.edu")
    return users.create_user(rt, tenant_id, {"username": name, **values}, ADMIN)


def batch(client, tenant, action: str, **body: Any):
    return client.post("/api/v1/batch-actions", json={"action": action, **body}, headers=tenant.admin)


def operation(rt, tenant_id: int, operation_id: int):
    from provisioning.operations import get_operation

    return get_operation(rt, tenant_id, operation_id)
