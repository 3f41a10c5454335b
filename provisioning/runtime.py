"""What a service needs from the outside world, bundled once per process.

The app factory and the job worker both build a :class:`Runtime`; services
take it as their first argument and stay free of Flask and RQ.
"""

from __future__ import annotations

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


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue = field(default_factory=NullQueue)
    extensions: dict[str, Any] = field(default_factory=dict)
