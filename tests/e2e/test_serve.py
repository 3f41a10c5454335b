"""`provisioning serve` as a real process: the README's first command, proven end to end.

The server runs on the embedded default (no DATABASE_URL, no REDIS_URL) in a fresh
temporary directory, exactly as a new user starts it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import free_port

SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL")


def command(*args: str) -> list[str]:
    """The installed console script (as the README uses it), else the module."""
    script = shutil.which("provisioning", path=str(Path(sys.executable).parent))
    return [script, *args] if script else [sys.executable, "-m", "server.cli", *args]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update(extra)
    return env


def http(method: str, url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class Server:
    """A `provisioning serve` subprocess in its own working directory."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "serve.log"
        self._log = self.log.open("wb")
        self.process = subprocess.Popen(
            command("serve", "--port", str(self.port), *args),
            cwd=workdir,
            env=clean_env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if http("GET", f"{self.base}/healthz")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        pytest.fail(f"serve did not answer /healthz within {timeout}s:\n{self.output()}")

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            command(*args),
            cwd=self.workdir,
            env=clean_env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def output(self) -> str:
        self._log.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@pytest.fixture
def serve(tmp_path):
    servers: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(tmp_path, *args)
        servers.append(server)
        server.wait_until_healthy()
        return server

    yield start
    for server in servers:
        server.stop()


def uses_gunicorn() -> bool:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def test_serve_on_the_embedded_default_answers_the_admin_api_with_a_token_made_on_the_cli(serve, tmp_path):
    server = serve()
    assert http("GET", f"{server.base}/readyz") == (200, {"status": "ok", "checks": {"database": "ok"}})
    assert (tmp_path / "provisioning.db").exists() and (tmp_path / "provisioning.secret").exists()

    created = dict(
        line.split(": ", 1) for line in server.cli("tenants", "create", "Acme University").splitlines() if ": " in line
    )
    token = server.cli("tokens", "create", created["slug"], "--scope", "admin").splitlines()[-1]

    assert http("GET", f"{server.base}/api/v1/groups")[0] == 401
    status, body = http("GET", f"{server.base}/api/v1/groups", token)
    assert status == 200 and body["items"] == [] and body["total"] == 0
    status, group = http("POST", f"{server.base}/api/v1/groups", token, {"name": "Sales Team"})
    assert status == 201, group
    status, body = http("GET", f"{server.base}/api/v1/groups?q=sales", token)
    assert status == 200 and [g["id"] for g in body["items"]] == [group["id"]]
    if uses_gunicorn():
        assert "with gunicorn: 1 worker process" in server.output()


@pytest.mark.skipif(not uses_gunicorn(), reason="gunicorn is not installed")
def test_without_redis_serve_runs_one_worker_process_whatever_workers_asks_for(serve):
    server = serve("--workers", "3")
    time.sleep(1)  # give a second worker, were there one, the time to boot
    log = server.output()
    assert "runs as 1 worker process" in log
    assert log.count("Booting worker") == 1


def test_serve_with_a_database_url_but_no_secret_key_exits_with_a_clear_message(tmp_path):
    done = subprocess.run(
        command("serve", "--port", str(free_port())),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(DATABASE_URL="postgresql://postgres@127.0.0.1/provisioning"),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SECRET_KEY is not set" in done.stderr and "Traceback" not in done.stderr
