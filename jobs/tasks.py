"""The RQ entry point.  RQ imports this module in the worker and calls :func:`run_operation`."""

from __future__ import annotations

import threading

from jobs.bootstrap import build_runtime
from jobs.runner import execute
from provisioning.config import Settings
from provisioning.runtime import Runtime

_runtime: Runtime | None = None
_lock = threading.Lock()


def use_runtime(rt: Runtime | None) -> None:
    """Set the Runtime jobs run with (the worker command and tests set it)."""
    global _runtime
    _runtime = rt


def current_runtime() -> Runtime:
    """The worker's Runtime, built from the environment on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(Settings.from_env())
        return _runtime


def run_operation(operation_id: int) -> str:
    """Run one Operation by id (idempotent: a finished or taken operation is skipped)."""
    return execute(current_runtime(), int(operation_id))
