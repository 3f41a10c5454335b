"""Mail settings: SMTP_URL, MAIL_FROM and the sender's pacing and retry policy.

They are part of the app's :class:`~provisioning.config.Settings` (read from the
environment by ``Settings.from_env``; tests and embedding programs pass ``smtp_url=...``
to ``Settings.from_mapping``); this is the mail code's view of them.  Without SMTP_URL
(the embedded default) emails are kept in the outbox and shown in the email log, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from provisioning.config import Settings


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str | None
    mail_from: str
    send_interval: float  # seconds between two messages: pacing towards the SMTP server
    batch_size: int  # messages sent per job chunk (Stop is checked between chunks)
    turn_seconds: float  # one run of the sending job holds a worker this long at most, then queues again (0: no limit)
    max_attempts: int  # temporary failures retried up to this many attempts in all
    retry_base: float  # first retry delay in seconds, doubled on each further attempt
    retry_max: float  # the longest retry delay
    claim_lease: float  # a "sending" claim older than this belonged to a worker that died
    timeout: float  # SMTP socket timeout

    @property
    def configured(self) -> bool:
        return bool(self.smtp_url)

    @classmethod
    def of(cls, settings: Settings) -> MailSettings:
        host = urlsplit(settings.public_base_url).hostname or "localhost"
        return cls(
            smtp_url=(settings.smtp_url or "").strip() or None,
            mail_from=settings.mail_from or f"no-reply@{host}",
            send_interval=float(settings.email_send_interval),
            batch_size=int(settings.email_batch_size),
            turn_seconds=float(settings.email_send_turn_seconds),
            max_attempts=int(settings.email_max_attempts),
            retry_base=float(settings.email_retry_base_seconds),
            retry_max=float(settings.email_retry_max_seconds),
            claim_lease=float(settings.email_claim_lease_seconds),
            timeout=float(settings.smtp_timeout_seconds),
        )
