"""The benchmark environment: PostgreSQL + Redis, a fresh schema, tenants, an RQ worker process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text

from provisioning.config import Settings, _normalise_database_url

FINISHED = ("succeeded", "failed", "cancelled")


class BenchError(RuntimeError):
    """A benchmark cannot run (bad configuration) or the product did not do the work."""


def database_url(env: dict[str, str] | os._Environ = os.environ) -> str:
    url = (env.get("BENCH_DATABASE_URL") or env.get("TEST_DATABASE_URL") or "").strip()
    if not url:
        raise BenchError(
            "Set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL database the benchmarks "
            "may wipe, e.g. postgresql://postgres@127.0.0.1/prov_bench."
        )
    if not url.startswith(("postgres://", "postgresql")):
        raise BenchError(
            f"The benchmarks measure PostgreSQL only (COPY, generate_series); {url.split(':')[0]!r} "
            "is not supported. Point BENCH_DATABASE_URL at PostgreSQL."
        )
    return _normalise_database_url(url)


def redis_url(env: dict[str, str] | os._Environ = os.environ) -> str:
    url = (env.get("BENCH_REDIS_URL") or env.get("TEST_REDIS_URL") or "").strip()
    if not url:
        raise BenchError(
            "Set BENCH_REDIS_URL (or TEST_REDIS_URL) to a Redis the benchmarks may use, e.g. redis://127.0.0.1:6379/11."
        )
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Bench:
    """One benchmark run: a wiped schema at head, a Runtime on RQ, the admin API's test client."""

    def __init__(self) -> None:
        from jobs.bootstrap import build_runtime
        from provisioning.migrate import upgrade
        from server.app import create_app

        self.database_url = database_url()
        self.redis_url = redis_url()
        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(self.database_url)
        self.secret_key = secrets.token_urlsafe(32)
        self.queue_name = f"bench-{secrets.token_hex(4)}"
        self.settings = Settings.from_mapping(
            {
                "database_url": self.database_url,
                "secret_key": self.secret_key,
                "redis_url": self.redis_url,
                "public_base_url": "http://localhost",
                "jobs_sweep_interval": 0,
                "queue_name": self.queue_name,
            }
        )
        self.rt = build_runtime(self.settings)
        self.app = create_app(runtime=self.rt)
        self.client = self.app.test_client()
        self._tenants = 0

    def close(self) -> None:
        self.rt.queue.queue.empty()
        self.rt.db.dispose()

    # --- data -----------------------------------------------------------------------------------

    def raw(self) -> psycopg.Connection:
        """A plain psycopg connection (autocommit off) for seeding and baselines."""
        return psycopg.connect(libpq_url(self.database_url))

    def sql(self, statement: str, params: dict[str, Any] | None = None) -> list[tuple]:
        with self.raw() as conn:
            cur = conn.execute(statement, params or {})
            rows = cur.fetchall() if cur.description else []
            conn.commit()
            return rows

    def time_statements(self, statements: Iterable[str], params: dict[str, Any]) -> float:
        """Seconds to run raw statements in one transaction, commit included (a baseline)."""
        with self.raw() as conn:
            start = time.perf_counter()
            for statement in statements:
                conn.execute(statement, params)
            conn.commit()
            return time.perf_counter() - start

    def scalar(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        return self.sql(statement, params)[0][0]

    def tenant(self, name: str | None = None) -> Tenant:
        from provisioning.services import tenants, tokens

        self._tenants += 1
        t = tenants.create_tenant(self.rt, name or f"Bench {self._tenants}")
        _, admin = tokens.create_token(self.rt, t.id, "admin", "bench admin")
        _, scim = tokens.create_token(self.rt, t.id, "scim", "bench scim")
        return Tenant(t.id, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {scim}"})

    def seed_users(self, tenant_id: int, n: int, prefix: str, *, analyze: bool = True) -> tuple[int, int]:
        """n users in one INSERT ... SELECT generate_series; every 20th matches the rule benchmark.

        Returns (lowest id, highest id).  department is "X" for every 5th, the email domain
        starts with "@y" for every 4th.
        """
        lo, hi = self.sql(
            """
            WITH ins AS (
              INSERT INTO users (tenant_id, username, email, given_name, family_name, display_name, active, status,
                                 role, department, custom_attributes, extra, created_at, updated_at, version)
              SELECT %(t)s, %(p)s || g, %(p)s || g || CASE WHEN g %% 4 = 0 THEN '@y.example.org' ELSE '@example.com' END,
                     'Given' || g, 'Family' || g, 'Given' || g || ' Family' || g, true, 'active', 'learner',
                     CASE WHEN g %% 5 = 0 THEN 'X' ELSE 'D' || (g %% 37) END, '{}'::jsonb, '{}'::jsonb, now(), now(), 1
              FROM generate_series(1, %(n)s) AS g
              RETURNING id)
            SELECT min(id), max(id) FROM ins""",
            {"t": tenant_id, "p": prefix, "n": n},
        )[0]
        # The identity keys (provisioning/identity_keys.py) the service looks users up by; ASCII names: lower().
        self.sql(
            "UPDATE users SET username_key = lower(username), email_key = lower(email) "
            "WHERE tenant_id = %(t)s AND id BETWEEN %(lo)s AND %(hi)s",
            {"t": tenant_id, "lo": lo, "hi": hi},
        )
        if analyze:
            self.sql("ANALYZE users")
        return lo, hi

    def cpu_snapshot(self, *processes: int) -> dict[int, float] | None:
        """CPU seconds used so far by this process, ``processes`` (e.g. a worker's pid) and every client session
        of the bench database (pid -> seconds; None where /proc does not show them).  A session that ends
        between two snapshots is not counted: keep the connections whose work counts open (pools do)."""
        backends = self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return cpu_of({os.getpid(): None, **dict.fromkeys(processes), **{p: "postgres" for (p,) in backends}})

    def seed_group(self, tenant_id: int, name: str, *, kind: str = "manual", rule: str | None = None) -> int:
        return self.scalar(
            """
            INSERT INTO groups (tenant_id, name, kind, source, rule, settings, created_at, updated_at, version)
            VALUES (%(t)s, %(name)s, %(kind)s, 'api', %(rule)s, '{}'::jsonb, now(), now(), 1) RETURNING id""",
            {"t": tenant_id, "name": name, "kind": kind, "rule": rule},
        )

    def seed_members(self, tenant_id: int, group_id: int, lo: int, hi: int) -> None:
        self.sql(
            """INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at)
                    SELECT %(g)s, id, %(t)s, 'manual', now() FROM users
                    WHERE tenant_id = %(t)s AND id BETWEEN %(lo)s AND %(hi)s""",
            {"g": group_id, "t": tenant_id, "lo": lo, "hi": hi},
        )
        self.sql("ANALYZE memberships")

    # --- product --------------------------------------------------------------------------------

    def wait_operation(self, operation_id: int, timeout: float = 3600) -> dict[str, Any]:
        """Poll the Operation row until it finishes; a failed or cancelled one is an error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, result, errors = self.sql(
                "SELECT status, result, errors FROM operations WHERE id = %(id)s", {"id": operation_id}
            )[0]
            if status in FINISHED:
                if status != "succeeded":
                    raise BenchError(f"operation {operation_id} {status}: {errors}")
                return result or {}
            time.sleep(0.02)
        raise BenchError(f"operation {operation_id} did not finish within {timeout:.0f} s")

    def worker(self) -> Worker:
        return Worker(self)


@dataclass
class Tenant:
    id: int
    admin: dict[str, str]
    scim: dict[str, str]


class Worker:
    """``provisioning worker`` in its own process, as in production; records its peak RSS.

    Started (and waited for until it listens) before the timed part, so the timings measure
    the job and not Python's start-up.  The peak RSS is the kernel's high-water mark of the
    worker process (VmHWM; see ``__exit__`` for why not wait4's ru_maxrss).
    """

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.proc: subprocess.Popen | None = None
        self.peak_rss_mb: float | None = None
        self.idle_rss_mb: float | None = None
        self.app_name = f"{bench.queue_name}-worker"

    def __enter__(self) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": self.bench.database_url,
            "REDIS_URL": self.bench.redis_url,
            "SECRET_KEY": self.bench.secret_key,
            "QUEUE_NAME": self.bench.queue_name,
            "JOBS_SWEEP_INTERVAL": "0",
            "RULES_EVALUATE_INTERVAL": "0",
            # libpq names the worker's database sessions, so cpu_snapshot() can find their backends.
            "PGAPPNAME": self.app_name,
        }
        script = Path(sys.executable).with_name("provisioning")
        cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from server.cli import main; main()"]
        self.proc = subprocess.Popen([*cmd, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._stderr: list[bytes] = []
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()
        self._wait_listening()
        import psutil

        self.idle_rss_mb = psutil.Process(self.proc.pid).memory_info().rss / 2**20
        return self

    def _wait_listening(self, timeout: float = 60) -> None:
        from rq import Queue
        from rq import Worker as RQWorker

        queue = Queue(self.bench.queue_name, connection=self.bench.rt.queue.connection)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("the worker exited: " + b"".join(self._stderr).decode(errors="replace")[-2000:])
            if RQWorker.count(queue=queue):
                return
            time.sleep(0.05)
        raise BenchError("the worker did not start listening within a minute")

    def busy(self) -> bool:
        """Whether a job waits in the worker's queue or the worker has one in hand (RQ's state in Redis).

        An Operation is "succeeded" before its job ends: the job then still analyses the tables it
        wrote (provisioning/statistics.py), and the worker is idle only after that."""
        from rq import Queue
        from rq import Worker as RQWorker
        from rq.serializers import JSONSerializer

        queue = Queue(self.bench.queue_name, connection=self.bench.rt.queue.connection, serializer=JSONSerializer)
        return bool(queue.count) or any(w.get_state() == "busy" for w in RQWorker.all(queue=queue))

    def cpu_snapshot(self) -> dict[int, float] | None:
        """CPU seconds used so far by the worker process and by each of its database sessions' backends
        (pid -> seconds), or None where /proc does not show them (a database on another machine).

        A shared machine's load stretches wall-clock times several-fold but leaves the CPU a piece of
        work takes nearly alone, so the two together tell a slower product from a busier machine."""
        backends = self.bench.sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %(a)s", {"a": self.app_name}
        )
        return cpu_of({self.proc.pid: None, **{pid: "postgres" for (pid,) in backends}})

    def __exit__(self, *exc: object) -> None:
        own_peak = _peak_rss_mb(self.proc.pid)
        self.proc.terminate()
        try:
            _, _, usage = os.wait4(self.proc.pid, 0)
            # wait4's ru_maxrss also counts the image the child was forked from: Linux records the
            # pre-exec memory's high-water mark, i.e. this benchmark process with its CSV and rows
            # in memory (372 MB at 1M rows for a worker that never went past 110 MB).  The worker's
            # own VmHWM, read just before it stops, is the figure wanted.
            self.peak_rss_mb = own_peak if own_peak is not None else usage.ru_maxrss / 1024  # KiB on Linux
        except ChildProcessError:
            self.peak_rss_mb = own_peak
        self.proc.returncode = 0


def _peak_rss_mb(pid: int) -> float | None:
    """A process's own peak resident set (VmHWM), in MB; None where /proc doesn't tell."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_seconds(pid: int, command: str | None = None) -> float | None:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat fields 14 and 15); None if it is
    not on this machine, or (``command``) runs another program: a database in a container has its own pids."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            head, tail = stat.read().rsplit(")", 1)
    except OSError:
        return None
    if command is not None and head.split("(", 1)[1] != command:
        return None
    fields = tail.split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(processes: dict[int, str | None]) -> dict[int, float] | None:
    """CPU seconds used so far by each process (pid -> the program it must run, or None for any), or None
    where one of them can't be read."""
    snapshot = {}
    for pid, command in processes.items():
        seconds = _cpu_seconds(pid, command)
        if seconds is None:
            return None
        snapshot[pid] = seconds
    return snapshot


def cpu_between(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """CPU seconds spent between two snapshots (a session opened meanwhile counts from zero)."""
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def timed(fn, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def rows_csv(header: str, rows: Iterable[Iterable[Any]]) -> bytes:
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")
