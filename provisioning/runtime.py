"""What a service needs from the outside world, bundled once per process.

The app factory and the job worker both build a :class:`Runtime` (``jobs.bootstrap``);
services take it as their first argument and stay free of Flask and RQ.  The outside
world comes in through ports declared here: the job queue (``jobs.queue`` implements it)
and the LMS's roster service (``provisioning.lti.nrps.NrpsClient`` implements it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from provisioning.config import Settings
from provisioning.db import Database


class JobQueue(Protocol):
    """Runs the job of a committed Operation row, somewhere, some time soon."""

    def enqueue(self, operation_id: int) -> None: ...

    def ping(self) -> None: ...

    def depth(self) -> dict[str, int]:
        """Jobs in the queue by state (for the queue-depth gauge)."""
        ...


class NullQueue:
    """A queue that runs nothing (the CLI uses it for commands that start no jobs)."""

    def enqueue(self, operation_id: int) -> None:  # pragma: no cover - trivial
        return None

    def ping(self) -> None:  # pragma: no cover - trivial
        return None

    def depth(self) -> dict[str, int]:  # pragma: no cover - trivial
        return {}


@dataclass(frozen=True)
class Platform:
    """An LMS as the tool calls its services: who it is, where its token endpoint is, our signing key."""

    issuer: str
    client_id: str
    token_url: str
    audience: str | None
    kid: str
    private_pem: str


@dataclass
class MembersPage:
    members: list[dict[str, Any]]
    next_url: str | None
    differences_url: str | None
    context: dict[str, Any] = field(default_factory=dict)


class RosterSource(Protocol):
    """A course's membership over LTI Names and Role Provisioning Services 2.0, page by page."""

    def members_page(self, url: str, *, origin: str | None = None) -> MembersPage: ...


def no_roster_source(platform: Platform) -> RosterSource:
    """The default for a Runtime built without one (the CLI's): roster syncs need ``jobs.bootstrap``."""
    raise RuntimeError("This process has no NRPS client; build its Runtime with jobs.bootstrap.build_runtime.")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue = field(default_factory=NullQueue)
    # Opens the roster service of one LMS registration (NRPS), for roster syncs.
    roster_source: Callable[[Platform], RosterSource] = no_roster_source
    extensions: dict[str, Any] = field(default_factory=dict)
