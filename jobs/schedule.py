"""The worker's schedules: the periodic full re-evaluation of automatic groups, and scheduled reports.

Every worker runs this thread (when RULES_EVALUATE_INTERVAL > 0); the database decides
which of them starts a period's evaluation (provisioning/services/rule_schedule.py), so
adding workers never adds evaluations.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Self

from jobs.queue import InProcessQueue
from provisioning.reports.runs import start_due_reports
from provisioning.rules.schedule import start_due_evaluations
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

MAX_CHECK_SECONDS = 60.0


class _Periodic:
    """A daemon thread that calls :meth:`_tick` now and then again after each :meth:`_pause`, until stopped.

    A tick that fails (the database may be down) is logged and retried at the next one.
    """

    name = "provisioning-schedule"
    what = "a scheduled look"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _tick(self) -> None:
        raise NotImplementedError

    def _pause(self) -> float:
        raise NotImplementedError

    def _loop(self) -> None:
        while True:
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001 - the database may be down; look again later
                log.warning("%s failed (%s: %s); will retry", self.what, type(exc).__name__, exc)
            if self._stop.wait(self._pause()):
                return


class RuleSchedule(_Periodic):
    """Looks for a due evaluation now, at the start of each period, and every min(interval / 4, 60)
    seconds in between, on a daemon thread."""

    name = "provisioning-rule-schedule"
    what = "scheduled rule evaluation"

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self.every = min(max(rt.settings.rules_evaluate_interval / 4, 0.5), MAX_CHECK_SECONDS)

    def _tick(self) -> None:
        start_due_evaluations(self.rt)

    def _pause(self) -> float:
        # Wake at the start of the next period (every worker at once: the database picks one), or
        # sooner to retry a look that failed or was skipped.
        interval = self.rt.settings.rules_evaluate_interval
        return min(self.every, interval - time.time() % interval + 0.01)


class ReportScheduler(_Periodic):
    """Starts the scheduled reports that are due (provisioning/reports/runs.py), now and every
    ``every`` seconds, on a daemon thread; the schedules' row locks make several workers start each once."""

    name = "provisioning-report-schedule"
    what = "starting the scheduled reports"

    def __init__(self, rt: Runtime, every: float = MAX_CHECK_SECONDS) -> None:
        super().__init__(rt)
        self.every = every

    def _tick(self) -> None:
        start_due_reports(self.rt)

    def _pause(self) -> float:
        return self.every


def start_in_process_report_scheduler(rt: Runtime) -> ReportScheduler | None:
    """In the embedded default (jobs on a thread of this process, swept in-process), start the scheduled
    reports here too; None when jobs go to RQ (the worker does it) or in-process sweeping is off (tests)."""
    if rt.settings.jobs_sweep_interval <= 0 or not isinstance(rt.queue, InProcessQueue):
        return None
    return ReportScheduler(rt).start()
