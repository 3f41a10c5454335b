"""The worker's schedules: the periodic full re-evaluation of automatic groups, and scheduled reports.

Every worker runs this thread (when RULES_EVALUATE_INTERVAL > 0); the database decides
which of them starts a period's evaluation (provisioning/services/rule_schedule.py), so
adding workers never adds evaluations.
"""

from __future__ import annotations

import logging
import threading
import time

from jobs.queue import InProcessQueue
from provisioning.reports.runs import start_due_reports
from provisioning.rules.schedule import start_due_evaluations
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

MAX_CHECK_SECONDS = 60.0


class RuleSchedule:
    """Looks for a due evaluation now, at the start of each period, and every min(interval / 4, 60)
    seconds in between, on a daemon thread."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.every = min(max(rt.settings.rules_evaluate_interval / 4, 0.5), MAX_CHECK_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="provisioning-rule-schedule", daemon=True)

    def start(self) -> RuleSchedule:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        interval = self.rt.settings.rules_evaluate_interval
        while True:
            try:
                start_due_evaluations(self.rt)
            except Exception as exc:  # noqa: BLE001 - the database may be down; look again later
                log.warning("scheduled rule evaluation failed (%s: %s); will retry", type(exc).__name__, exc)
            # Wake at the start of the next period (every worker at once: the database picks one), or
            # sooner to retry a look that failed or was skipped.
            to_next = interval - time.time() % interval + 0.01
            if self._stop.wait(min(self.every, to_next)):
                return


class ReportScheduler:
    """Starts the scheduled reports that are due (provisioning/reports/runs.py), now and every
    ``every`` seconds, on a daemon thread; the schedules' row locks make several workers start each once."""

    def __init__(self, rt: Runtime, every: float = MAX_CHECK_SECONDS) -> None:
        self.rt = rt
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="provisioning-report-schedule", daemon=True)

    def start(self) -> ReportScheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            try:
                start_due_reports(self.rt)
            except Exception as exc:  # noqa: BLE001 - the database may be down; look again later
                log.warning("scheduled reports failed to start (%s: %s); will retry", type(exc).__name__, exc)
            if self._stop.wait(self.every):
                return


def start_in_process_report_scheduler(rt: Runtime) -> ReportScheduler | None:
    """In the embedded default (jobs on a thread of this process, swept in-process), start the scheduled
    reports here too; None when jobs go to RQ (the worker does it) or in-process sweeping is off (tests)."""
    if rt.settings.jobs_sweep_interval <= 0 or not isinstance(rt.queue, InProcessQueue):
        return None
    return ReportScheduler(rt).start()
