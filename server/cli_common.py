"""What every ``provisioning`` command shares: where its settings and Runtime come from, the
error it exits with, and who it acts as in the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Mapping

import click

from provisioning import migrate
from provisioning.activity import Actor
from provisioning.config import Settings
from provisioning.db import Database
from provisioning.runtime import Runtime
from server.serving import safe_url


class CommandError(click.ClickException):
    """A message for the person at the terminal, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class CliState:
    """Where commands get their settings and Runtime: the environment, or what a test passes in."""

    def __init__(self, *, runtime: Runtime | None = None, env: Mapping[str, str] | None = None) -> None:
        self._runtime = runtime
        self._env = env
        self._settings: Settings | None = runtime.settings if runtime is not None else None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env(self._env)
        return self._settings

    def runtime(self) -> Runtime:
        """A Runtime on a database whose schema is current (the embedded default migrates itself)."""
        if self._runtime is None:
            prepare_database(self.settings)
            self._runtime = Runtime(settings=self.settings, db=Database(self.settings.database_url))
        return self._runtime

    def job_runtime(self) -> Runtime:
        """A Runtime whose queue is RQ, for ``provisioning worker``."""
        # Not at the top: the job modules load the metrics (see server/serving.py).
        from jobs.bootstrap import build_runtime
        from jobs.queue import RQQueue

        if self._runtime is not None:
            if not isinstance(self._runtime.queue, RQQueue):
                raise CommandError(_NO_REDIS, exit_code=2)
            return self._runtime
        if not self.settings.redis_url:
            raise CommandError(_NO_REDIS, exit_code=2)
        prepare_database(self.settings)
        self._runtime = build_runtime(self.settings)
        return self._runtime


_NO_REDIS = (
    "REDIS_URL is not set. Without it jobs run inside `provisioning serve` and no worker is needed; "
    "set REDIS_URL (e.g. redis://localhost:6379/0) on the web service and the workers to run jobs on RQ."
)


def prepare_database(settings: Settings) -> None:
    """Migrate the embedded SQLite database; refuse a server database that is not migrated."""
    if settings.embedded:
        migrate.upgrade(settings.database_url, secret_key=settings.secret_key)
        return
    db = Database(settings.database_url)
    try:
        current, heads = migrate.current_revisions(db), migrate.head_revisions()
    finally:
        db.dispose()
    if current != heads:
        state = f"at revision {', '.join(sorted(current))}" if current else "not migrated"
        raise CommandError(
            f"The database {safe_url(settings.database_url)} is {state}; this version needs "
            f"{', '.join(sorted(heads))}. Run `provisioning db upgrade` first.",
            exit_code=2,
        )


def cli_actor():
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return Actor(name=f"cli:{who}", channel="cli")


pass_state = click.make_pass_decorator(CliState, ensure=True)
