"""The SCIM peers: scim2-server and django-scim2, each in its own virtual environment, on loopback.

Each peer is installed from PyPI (pinned versions) into bench/.peers/<name> (gitignored; built on
first use and kept while its requirements are unchanged), loaded with the same users and group
as ours, and served by the same gunicorn as ours.  See bench/README.md for what each one gets.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.env import Bench, BenchError, libpq_url

PEERS_DIR = Path(__file__).with_name(".peers")
PEER_CODE = Path(__file__).with_name("peers")
GUNICORN = "gunicorn==27.0.1"  # the version our own server runs
REQUIREMENTS = {
    "scim2-server": ["scim2-server==0.8.3", GUNICORN],
    "django-scim2": ["django-scim2==0.23.0", "Django==5.2.19", "psycopg[binary]==3.3.9", GUNICORN],
}
TOKEN = "bench-peer-token"
READY_SECONDS = 600  # scim2-server builds its in-memory store before it listens


@dataclass
class Target:
    """A SCIM server the load generator drives: where it is, how ids look, which remove it accepts."""

    name: str
    port: int
    prefix: str
    headers: dict[str, str]
    user_id: Callable[[int], str]  # the id of the k-th seeded user (userName idp-k), k >= 1
    group_id: str
    remove_by_filter: bool  # members[value eq "id"] (Okta) rather than a value list (Entra ID)
    versions: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wanted(size_rows: int) -> bool:
    """Peers run at quick and full sizes; at smoke size (CI, no network) only with BENCH_PEERS=1."""
    choice = os.environ.get("BENCH_PEERS", "auto").strip().lower()
    if choice in ("0", "no", "false", "off"):
        return False
    return choice in ("1", "yes", "true", "on") or size_rows > 10_000


def venv(name: str) -> Path:
    """bench/.peers/<name>, with the peer's pinned requirements installed (once)."""
    home = PEERS_DIR / name
    marker = home / "requirements.txt"
    wanted_reqs = "\n".join(REQUIREMENTS[name]) + "\n"
    if marker.exists() and marker.read_text() == wanted_reqs:
        return home
    print(f"   installing {name} into {home} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
    done = subprocess.run(
        [str(home / "bin" / "pip"), "install", "-q", *REQUIREMENTS[name]], capture_output=True, text=True
    )
    if done.returncode:
        raise BenchError(f"pip could not install {name}: {done.stderr.strip()[-800:]}")
    marker.write_text(wanted_reqs)
    return home


def installed_versions(home: Path) -> dict[str, str]:
    out = subprocess.run([str(home / "bin" / "pip"), "list", "--format=freeze"], capture_output=True, text=True).stdout
    keep = ("scim2-server", "scim2-models", "django-scim2", "django", "gunicorn", "psycopg", "pydantic")
    return {n: v for n, _, v in (line.partition("==") for line in out.splitlines()) if n.lower() in keep}


class PeerServer:
    """One peer under gunicorn on loopback, with its data loaded; a context manager giving a Target."""

    def __init__(self, bench: Bench, name: str, users: int, members: int) -> None:
        self.bench, self.name, self.users, self.members = bench, name, users, members
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Target:
        home = venv(self.name)
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
            "PEER_TOKEN": TOKEN,
            "PEER_USERS": str(self.users),
            "PEER_MEMBERS": str(self.members),
        }
        gunicorn = [str(home / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}", "--threads", "8"]
        if self.name == "scim2-server":
            # In-memory storage lives in one process: one worker (a second would hold other data).
            cmd = [*gunicorn, "-w", "1", "--preload", "--chdir", str(PEER_CODE), "scim2_server_app:application"]
            target = Target(self.name, port, "/v2", {}, str, str(self.users + 1), remove_by_filter=True)
        else:
            try:
                env["PEER_DATABASE_URL"] = self._django_database(home, env)
            except psycopg.Error as exc:
                raise BenchError(f"django-scim2's database could not be prepared: {exc}") from exc
            cmd = [*gunicorn, "-w", "2", "--chdir", str(PEER_CODE / "django_scim2_peer"), "peer_wsgi:application"]
            target = Target(self.name, port, "/scim/v2", {}, str, "1", remove_by_filter=False)
        target.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
        target.versions = installed_versions(home)
        self.log = open(home / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(target)
        return target

    def _wait_ready(self, target: Target) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=5)
                conn.request("GET", f"{target.prefix}/ServiceProviderConfig", headers=target.headers)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise BenchError(f"{self.name} did not answer within {READY_SECONDS} s; see {self.log.name}")

    def _django_database(self, home: Path, env: dict[str, str]) -> str:
        """A fresh database next to ours (<ours>_django) with its tables and the same users and group."""
        ours = libpq_url(self.bench.database_url)
        base, _, name = ours.rpartition("/")
        name = name.split("?")[0] + "_django"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
        django_env = {
            **env,
            "PEER_DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "peer_settings",
            "PYTHONPATH": str(PEER_CODE / "django_scim2_peer"),
        }
        done = subprocess.run(
            [str(home / "bin" / "python"), "-m", "django", "migrate", "--run-syncdb", "-v", "0"],
            env=django_env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BenchError(f"django-scim2 migrate failed: {done.stderr.strip()[-800:]}")
        with psycopg.connect(url) as conn:  # the same users as ours: userName idp-k is id k
            conn.execute(
                """
                INSERT INTO peerapp_user (id, password, username, email, first_name, last_name, is_active, date_joined,
                                          scim_username)
                SELECT g, '', 'idp-' || g, 'idp-' || g || CASE WHEN g %% 4 = 0 THEN '@y.example.org' ELSE '@example.com' END,
                       'Given' || g, 'Family' || g, true, now(), 'idp-' || g
                FROM generate_series(1, %(n)s) AS g""",
                {"n": self.users},
            )
            conn.execute("SELECT setval(pg_get_serial_sequence('peerapp_user', 'id'), %(n)s)", {"n": self.users})
            conn.execute("INSERT INTO peerapp_group (id, name, scim_display_name) VALUES (1, 'IdP group', 'IdP group')")
            conn.execute("SELECT setval(pg_get_serial_sequence('peerapp_group', 'id'), 1)")
            conn.execute(
                """INSERT INTO peerapp_user_scim_group_set (user_id, group_id)
                            SELECT g, 1 FROM generate_series(1, %(m)s) AS g""",
                {"m": self.members},
            )
            conn.commit()
            conn.execute("ANALYZE")
        return url

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def peer_names() -> list[str]:
    return list(REQUIREMENTS)
