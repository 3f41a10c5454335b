"""Settings read from the environment.

With no environment at all the service runs on the *embedded default*: a SQLite
file in the working directory and jobs on a background thread of the web
process.  Production sets DATABASE_URL, REDIS_URL and SECRET_KEY.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_SQLITE_FILE = "provisioning.db"
# 20 requests a second per token, sustained over a minute: well above what Entra ID or Okta
# send during a full sync, low enough that a runaway client can't starve the others.
DEFAULT_RATE_LIMIT_PER_MINUTE = 1200


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service."""


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"expected a whole number, got {value!r}") from exc


def _choice(value: str | None, default: str, allowed: tuple[str, ...], name: str) -> str:
    value = (value or "").strip().lower() if default.islower() else (value or "").strip()
    if not value:
        return default
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _float(value: str | None, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigurationError(f"expected a number, got {value!r}") from exc


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Everything the service reads from its environment, in one place."""

    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    public_base_url: str = "http://localhost:8000"
    # Jobs
    queue_name: str = "provisioning"
    job_timeout: int = 3600
    operation_stale_seconds: int = 60
    jobs_sweep_interval: int = 30
    # Seconds between the workers' full re-evaluations of automatic groups (0: off; cron instead).
    rules_evaluate_interval: int = 86400
    # Limits
    max_content_length: int = 50 * 1024 * 1024
    page_size_max: int = 500
    import_max_rows: int = 1_000_000
    import_chunk_size: int = 2000
    # An import job grows (or shrinks) its chunks towards this many seconds each; 0 keeps import_chunk_size.
    import_chunk_seconds: float = 0.5
    batch_chunk_size: int | None = None  # None: a batch action's chunks are sized by time (services/chunk_sizing.py)
    # LTI: platform key sets are cached this long (and refetched on an unknown kid at most this often);
    # the launch token the embedded UI works from expires after lti_launch_token_seconds.
    lti_jwks_ttl_seconds: int = 3600
    lti_jwks_min_refetch_seconds: int = 5
    lti_launch_token_seconds: int = 4 * 3600
    # An invitation's join link (/join/<token>) works this many days after it was sent, once.
    invitation_link_days: int = 7
    # Hosts (names or IP addresses) that LTI Dynamic Registration may reach on private or loopback
    # addresses (on-premise LMSs), besides any an invite names; public addresses are always allowed.
    lti_registration_allowed_hosts: tuple[str, ...] = ()
    # Operations: requests per minute per API token (0: no limit; the environment's default is
    # DEFAULT_RATE_LIMIT_PER_MINUTE), the bearer token /metrics asks for (unset: /metrics is off),
    # and the log format ("json": one JSON object per line; "text" for a terminal).
    rate_limit_per_minute: int = 0
    metrics_token: str | None = None
    log_format: str = "json"
    log_level: str = "INFO"
    # Outgoing email (provisioning/mail): without smtp_url emails stay in the outbox and the email log.
    smtp_url: str | None = None
    mail_from: str = ""  # "" means no-reply@<host of public_base_url>
    email_send_interval: float = 0.2  # seconds between two messages: pacing towards the SMTP server
    email_batch_size: int = 50  # messages sent per job chunk (Stop is checked between chunks)
    # A sending job hands its worker back after this long and queues again behind the jobs that came meanwhile:
    # at the paced rate a large outbox takes hours, which must neither hold a worker nor reach JOB_TIMEOUT.
    email_send_turn_seconds: float = 60
    email_max_attempts: int = 6  # temporary failures retried up to this many attempts in all
    email_retry_base_seconds: float = 30  # first retry delay, doubled on each further attempt
    email_retry_max_seconds: float = 3600  # the longest retry delay
    email_claim_lease_seconds: float = 300  # a "sending" claim older than this belonged to a worker that died
    smtp_timeout_seconds: float = 30
    # Behaviour
    trust_proxy: bool = False
    embedded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see the README's table)."""
        env = os.environ if env is None else env
        database_url = env.get("DATABASE_URL", "").strip()
        embedded = not database_url
        if embedded:
            database_url = f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
        secret_key = env.get("SECRET_KEY", "").strip()
        if not secret_key:
            if not database_url.startswith("sqlite"):
                raise ConfigurationError(
                    "SECRET_KEY is not set. It is required whenever DATABASE_URL points at a "
                    "server database; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            secret_key = _embedded_secret(database_url)
        return cls(
            database_url=_normalise_database_url(database_url),
            redis_url=env.get("REDIS_URL", "").strip() or None,
            secret_key=secret_key,
            public_base_url=env.get("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/"),
            queue_name=env.get("QUEUE_NAME", "provisioning"),
            job_timeout=_int(env.get("JOB_TIMEOUT"), 3600),
            operation_stale_seconds=_int(env.get("OPERATION_STALE_SECONDS"), 60),
            jobs_sweep_interval=_int(env.get("JOBS_SWEEP_INTERVAL"), 30),
            rules_evaluate_interval=_int(env.get("RULES_EVALUATE_INTERVAL"), 86400),
            max_content_length=_int(env.get("MAX_UPLOAD_BYTES"), 50 * 1024 * 1024),
            page_size_max=_int(env.get("PAGE_SIZE_MAX"), 500),
            import_max_rows=_int(env.get("IMPORT_MAX_ROWS"), 1_000_000),
            import_chunk_size=_int(env.get("IMPORT_CHUNK_SIZE"), 2000),
            import_chunk_seconds=_float(env.get("IMPORT_CHUNK_SECONDS"), 0.5),
            batch_chunk_size=_int(env.get("BATCH_CHUNK_SIZE"), 0) or None,
            lti_jwks_ttl_seconds=_int(env.get("LTI_JWKS_TTL_SECONDS"), 3600),
            lti_jwks_min_refetch_seconds=_int(env.get("LTI_JWKS_MIN_REFETCH_SECONDS"), 5),
            lti_launch_token_seconds=_int(env.get("LTI_LAUNCH_TOKEN_SECONDS"), 4 * 3600),
            invitation_link_days=_int(env.get("INVITATION_LINK_DAYS"), 7),
            lti_registration_allowed_hosts=tuple(
                h.strip() for h in env.get("LTI_REGISTRATION_ALLOWED_HOSTS", "").split(",") if h.strip()
            ),
            rate_limit_per_minute=_int(env.get("RATE_LIMIT_PER_MINUTE"), DEFAULT_RATE_LIMIT_PER_MINUTE),
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
            log_format=_choice(env.get("LOG_FORMAT"), "json", ("json", "text"), "LOG_FORMAT"),
            log_level=_choice(
                env.get("LOG_LEVEL", "").upper(), "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), "LOG_LEVEL"
            ),
            smtp_url=env.get("SMTP_URL", "").strip() or None,
            mail_from=env.get("MAIL_FROM", "").strip(),
            email_send_interval=_float(env.get("EMAIL_SEND_INTERVAL"), 0.2),
            email_send_turn_seconds=_float(env.get("EMAIL_SEND_TURN_SECONDS"), 60),
            email_batch_size=_int(env.get("EMAIL_BATCH_SIZE"), 50),
            email_max_attempts=_int(env.get("EMAIL_MAX_ATTEMPTS"), 6),
            email_retry_base_seconds=_float(env.get("EMAIL_RETRY_BASE_SECONDS"), 30),
            email_retry_max_seconds=_float(env.get("EMAIL_RETRY_MAX_SECONDS"), 3600),
            email_claim_lease_seconds=_float(env.get("EMAIL_CLAIM_LEASE_SECONDS"), 300),
            smtp_timeout_seconds=_float(env.get("SMTP_TIMEOUT_SECONDS"), 30),
            trust_proxy=_bool(env.get("TRUST_PROXY"), False),
            embedded=embedded,
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build settings from a test's or embedding program's own values."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        extra = {k: v for k, v in values.items() if k not in known}
        settings = cls(**kwargs)
        settings.extra.update(extra)
        if not settings.database_url:
            raise ConfigurationError("database_url is required")
        settings.database_url = _normalise_database_url(settings.database_url)
        if not settings.secret_key:
            raise ConfigurationError("secret_key is required")
        return settings


def _normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the common way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _embedded_secret(database_url: str) -> str:
    """The embedded default keeps a generated secret beside its SQLite file."""
    db_path = database_url.split("///", 1)[-1] if "///" in database_url else ""
    if not db_path or db_path == ":memory:":
        return secrets.token_urlsafe(48)
    secret_file = Path(db_path).with_suffix(".secret")
    if secret_file.exists():
        return secret_file.read_text().strip()
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
