"""SCIM throughput for an identity provider's mix of calls, threaded client against gunicorn on loopback."""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from .env import Bench, BenchError
from .report import Result

THREADS = 8
SECONDS = {"smoke": 3, "quick": 15, "full": 60}
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``provisioning serve`` (gunicorn, 2 workers x 8 threads) on loopback, as deployed."""

    def __init__(self, bench: Bench) -> None:
        self.bench, self.port = bench, _free_port()

    def __enter__(self) -> "Server":
        env = {**os.environ, "DATABASE_URL": self.bench.database_url, "REDIS_URL": self.bench.redis_url,
               "SECRET_KEY": self.bench.secret_key, "QUEUE_NAME": self.bench.queue_name,
               "RATE_LIMIT_PER_MINUTE": "0"}  # measures throughput, not the limiter
        script = Path(sys.executable).with_name("provisioning")
        self.proc = subprocess.Popen([str(script), "serve", "--port", str(self.port), "--workers", "2",
                                      "--threads", "8"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.proc.terminate()
        raise BenchError("the server did not answer /healthz within a minute")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _load(port: int, seconds: float, make_request) -> tuple[int, list[float], int]:
    """THREADS keep-alive clients calling make_request(rng) for `seconds`; (requests, latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < stop:
            method, path, body, headers = make_request(rng, seed)
            start = time.perf_counter()
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            bad += response.status >= 400
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors[0]


def scim_throughput(bench: Bench, n: int, seconds: float | None = None) -> list[Result]:
    """IdP mix (50% userName filter, 20% POST user, 20% PATCH active, 10% group member PATCH) vs GET /healthz."""
    seconds = seconds or (SECONDS["smoke"] if n <= 10_000 else SECONDS["quick"] if n <= 100_000 else SECONDS["full"])
    tenant = bench.tenant()
    lo, hi = bench.seed_users(tenant.id, n, "idp-")
    group = bench.seed_group(tenant.id, "IdP group")
    bench.seed_members(tenant.id, group, lo, lo + min(n, 1000) - 1)
    headers = {**tenant.scim, "Content-Type": "application/scim+json"}
    counter = iter(range(10**9))

    def idp_call(rng: random.Random, seed: int):
        roll, uid = rng.random(), rng.randint(lo, hi)
        if roll < 0.5:
            return "GET", f"/scim/v2/Users?filter=userName%20eq%20%22idp-{uid - lo + 1}%22", None, headers
        if roll < 0.7:
            name = f"new-{seed}-{next(counter)}@example.com"
            return "POST", "/scim/v2/Users", {"schemas": [USER_SCHEMA], "userName": name, "active": True}, headers
        if roll < 0.9:
            return "PATCH", f"/scim/v2/Users/{uid}", {"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "active", "value": rng.random() < 0.5}]}, headers
        op = {"op": "add", "path": "members", "value": [{"value": str(uid)}]} if rng.random() < 0.5 else \
            {"op": "remove", "path": f'members[value eq "{uid}"]'}
        return "PATCH", f"/scim/v2/Groups/{group}", {"schemas": [PATCH_OP], "Operations": [op]}, headers

    with Server(bench) as server:
        _load(server.port, 1, lambda rng, seed: ("GET", "/healthz", None, {}))  # warm both workers
        count, latencies, errors = _load(server.port, seconds, idp_call)
        base_count, base_latencies, _ = _load(server.port, seconds, lambda rng, seed: ("GET", "/healthz", None, {}))
    if not count or errors > count * 0.05:
        raise BenchError(f"SCIM load: {errors} of {count} requests failed")
    q = statistics.quantiles(latencies, n=100)
    return [Result(f"SCIM IdP mix, {THREADS} threads (s/request)", n, seconds / count, seconds / base_count,
                   ours_label="gunicorn 2x8, SCIM mix", baseline_label="same server, GET /healthz",
                   extra={"requests_per_s": round(count / seconds, 1), "p50_ms": round(q[49] * 1000, 1),
                          "p99_ms": round(q[98] * 1000, 1), "errors": errors,
                          "healthz_requests_per_s": round(base_count / seconds, 1),
                          "peers": "scim2-server / django-scim2 not measured yet"})]
