"""Send MIME messages over SMTP with smtplib, configured by one URL.

``smtp://user:pass@host:587``   plain SMTP, upgraded with STARTTLS when the server offers it
``smtp://...?starttls=1``       STARTTLS required: refuse to send over a plain connection
``smtps://user:pass@host:465``  implicit TLS (RFC 8314 §3.3)
``...?cafile=/path/ca.pem``     trust this CA bundle (a private relay's certificate)

Failures are sorted by the reply code (RFC 5321 §4.2.1): 4yz is a transient negative
completion — try again later — and 5yz a permanent one.  Network errors are transient.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from provisioning.errors import InvalidInput
from provisioning.i18n import N_


class SendFailure(Exception):
    """Sending one message failed; ``reason`` is safe to show (it never holds the password)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:1000]


class TemporaryFailure(SendFailure):
    """Worth another attempt later (4yz reply, connection lost, server unreachable)."""


class PermanentFailure(SendFailure):
    """Another attempt would fail the same way (5yz reply)."""


class SMTPSender:
    """One SMTP connection, opened on first use and reused for the following messages."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput(
                N_("SMTP_URL must look like smtp://user:pass@host:port or smtps://..."),
                details={"SMTP_URL": [N_("Unsupported scheme or missing host.")]},
            )
        query = parse_qs(parts.query)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self.require_starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        self.cafile = query.get("cafile", [None])[0]
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SMTPSender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            # RFC 3207: STARTTLS only when the server advertises it, unless the URL demands it.
            if conn.has_extn("starttls"):
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            elif self.require_starttls:
                conn.close()
                raise TemporaryFailure("The SMTP server does not offer STARTTLS, which SMTP_URL requires.")
        if self.username:
            conn.login(self.username, self._password)
        return conn

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises TemporaryFailure or PermanentFailure with a displayable reason."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            refused = self._conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop_on_error()
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text) from None
        except smtplib.SMTPAuthenticationError as exc:
            # Wrong credentials are the operator's to fix: retry later rather than fail every message.
            self._drop_on_error()
            raise TemporaryFailure(f"SMTP login failed: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            self._drop_on_error()
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except SendFailure:
            self._conn = None
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop_on_error()
            raise TemporaryFailure(f"SMTP connection problem: {type(exc).__name__}: {exc}") from None
        if refused:  # only some recipients refused; we send one recipient per message
            code, text = next(iter(refused.values()))
            raise _by_code(code, text)

    def _drop_on_error(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already failing
                pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _by_code(code: int, text: bytes | str) -> SendFailure:
    reason = f"{code} {_text(text)}".strip()
    return TemporaryFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)
