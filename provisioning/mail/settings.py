"""Mail settings: SMTP_URL, MAIL_FROM and the sender's pacing and retry policy.

They are read from the Settings' extra values first (tests and embedding programs
pass ``smtp_url=...``), then from the environment.  Without SMTP_URL (the embedded
default) emails are kept in the outbox and shown in the email log, never sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..config import Settings


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str | None
    mail_from: str
    send_interval: float      # seconds between two messages: pacing towards the SMTP server
    batch_size: int           # messages sent per job chunk (Stop is checked between chunks)
    max_attempts: int         # temporary failures retried up to this many attempts in all
    retry_base: float         # first retry delay in seconds, doubled on each further attempt
    retry_max: float          # the longest retry delay
    claim_lease: float        # a "sending" claim older than this belonged to a worker that died
    timeout: float            # SMTP socket timeout

    @property
    def configured(self) -> bool:
        return bool(self.smtp_url)

    @classmethod
    def of(cls, settings: Settings, env: Mapping[str, str] | None = None) -> "MailSettings":
        env = os.environ if env is None else env
        extra: dict[str, Any] = settings.extra or {}

        def get(name: str, default: Any) -> Any:
            if name in extra:
                return extra[name]
            value = env.get(name.upper(), "").strip()
            return value if value else default

        host = urlsplit(settings.public_base_url).hostname or "localhost"
        return cls(
            smtp_url=(get("smtp_url", "") or "").strip() or None,
            mail_from=get("mail_from", f"no-reply@{host}"),
            send_interval=float(get("email_send_interval", 0.2)),
            batch_size=int(get("email_batch_size", 50)),
            max_attempts=int(get("email_max_attempts", 6)),
            retry_base=float(get("email_retry_base_seconds", 30)),
            retry_max=float(get("email_retry_max_seconds", 3600)),
            claim_lease=float(get("email_claim_lease_seconds", 300)),
            timeout=float(get("smtp_timeout_seconds", 30)),
        )
