"""Settings read from the environment.

With no environment at all the service runs on the *embedded default*: a SQLite
file in the working directory and jobs on a background thread of the web
process.  Production sets DATABASE_URL, REDIS_URL and SECRET_KEY.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

DEFAULT_SQLITE_FILE = "provisioning.db"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service."""


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"expected a whole number, got {value!r}") from exc


def _float(value: str | None, default: float) -> float:
    if value is None or value == "":
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
    # Limits
    max_content_length: int = 50 * 1024 * 1024
    page_size_max: int = 500
    import_max_rows: int = 1_000_000
    import_chunk_size: int = 2000
    # An import job grows (or shrinks) its chunks towards this many seconds each; 0 keeps import_chunk_size.
    import_chunk_seconds: float = 0.5
    # LTI: platform key sets are cached this long (and refetched on an unknown kid at most this often);
    # the launch token the embedded UI works from expires after lti_launch_token_seconds.
    lti_jwks_ttl_seconds: int = 3600
    lti_jwks_min_refetch_seconds: int = 5
    lti_launch_token_seconds: int = 4 * 3600
    # Behaviour
    trust_proxy: bool = False
    embedded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
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
            max_content_length=_int(env.get("MAX_UPLOAD_BYTES"), 50 * 1024 * 1024),
            page_size_max=_int(env.get("PAGE_SIZE_MAX"), 500),
            import_max_rows=_int(env.get("IMPORT_MAX_ROWS"), 1_000_000),
            import_chunk_size=_int(env.get("IMPORT_CHUNK_SIZE"), 2000),
            import_chunk_seconds=_float(env.get("IMPORT_CHUNK_SECONDS"), 0.5),
            lti_jwks_ttl_seconds=_int(env.get("LTI_JWKS_TTL_SECONDS"), 3600),
            lti_jwks_min_refetch_seconds=_int(env.get("LTI_JWKS_MIN_REFETCH_SECONDS"), 5),
            lti_launch_token_seconds=_int(env.get("LTI_LAUNCH_TOKEN_SECONDS"), 4 * 3600),
            trust_proxy=_bool(env.get("TRUST_PROXY"), False),
            embedded=embedded,
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Settings":
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
            return "postgresql+psycopg://" + url[len(prefix):]
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
