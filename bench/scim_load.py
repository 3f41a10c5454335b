"""SCIM throughput for an identity provider's mix of calls, threaded client against gunicorn on loopback."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.env import Bench, BenchError
from bench.report import Result
from bench.scim_peers import PeerServer, Target, free_port, peer_names, wanted

THREADS = 8
SECONDS = {"smoke": 3, "quick": 15, "full": 60}  # per server (ours and each peer)
ROUNDS = 3  # with peers, each server's time is split in this many interleaved rounds
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Server:
    """``provisioning serve`` (gunicorn, 2 workers x 8 threads) on loopback, as deployed."""

    def __init__(self, bench: Bench) -> None:
        self.bench, self.port = bench, free_port()

    def __enter__(self) -> Server:
        env = {
            **os.environ,
            "DATABASE_URL": self.bench.database_url,
            "REDIS_URL": self.bench.redis_url,
            "SECRET_KEY": self.bench.secret_key,
            "QUEUE_NAME": self.bench.queue_name,
            "RATE_LIMIT_PER_MINUTE": "0",
        }  # measures throughput, not the limiter
        script = Path(sys.executable).with_name("provisioning")
        self.proc = subprocess.Popen(
            [str(script), "serve", "--port", str(self.port), "--workers", "2", "--threads", "8"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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


def idp_mix(target: Target, n: int, counter) -> Callable:
    """The IdP mix against one server: 50% userName eq filter, 20% POST user, 20% PATCH active,
    10% group member PATCH (add or remove one of the n seeded users)."""
    base, headers = target.prefix, target.headers

    def idp_call(rng: random.Random, seed: int):
        roll, k = rng.random(), rng.randint(1, n)
        uid = target.user_id(k)
        if roll < 0.5:
            return "GET", f"{base}/Users?filter=userName%20eq%20%22idp-{k}%22", None, headers
        if roll < 0.7:
            name = f"new-{seed}-{next(counter)}@example.com"
            return "POST", f"{base}/Users", {"schemas": [USER_SCHEMA], "userName": name, "active": True}, headers
        if roll < 0.9:
            return (
                "PATCH",
                f"{base}/Users/{uid}",
                {
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "replace", "path": "active", "value": rng.random() < 0.5}],
                },
                headers,
            )
        if rng.random() < 0.5:
            op = {"op": "add", "path": "members", "value": [{"value": uid}]}
        elif target.remove_by_filter:
            op = {"op": "remove", "path": f'members[value eq "{uid}"]'}
        else:
            op = {"op": "remove", "path": "members", "value": [{"value": uid}]}
        return "PATCH", f"{base}/Groups/{target.group_id}", {"schemas": [PATCH_OP], "Operations": [op]}, headers

    return idp_call


def _figures(count: int, latencies: list[float], errors: int, seconds: float, name: str) -> dict:
    if not count or errors > count * 0.05:
        raise BenchError(f"SCIM load on {name}: {errors} of {count} requests failed")
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests_per_s": round(count / seconds, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "errors": errors,
        "requests": count,
    }


def scim_throughput(bench: Bench, n: int, seconds: float | None = None) -> list[Result]:
    """Our server on the IdP mix vs GET /healthz, and vs the peers (same data, same client, same run)."""
    seconds = seconds or (SECONDS["smoke"] if n <= 10_000 else SECONDS["quick"] if n <= 100_000 else SECONDS["full"])
    members = min(n, 1000)
    tenant = bench.tenant()
    lo, hi = bench.seed_users(tenant.id, n, "idp-")
    group = bench.seed_group(tenant.id, "IdP group")
    bench.seed_members(tenant.id, group, lo, lo + members - 1)
    peers = peer_names() if wanted(n) else []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(Server(bench))
        ours = Target(
            "ours",
            server.port,
            "/scim/v2",
            {**tenant.scim, "Content-Type": "application/scim+json"},
            lambda k: str(lo + k - 1),
            str(group),
            remove_by_filter=True,
        )
        targets = [ours] + [stack.enter_context(PeerServer(bench, name, n, members)) for name in peers]
        _load(server.port, 1, lambda rng, seed: ("GET", "/healthz", None, {}))  # warm both workers
        # Interleaved rounds, so a change in the machine's load weighs on every server alike.
        rounds = ROUNDS if peers else 1
        got = {t.name: (0, [], 0) for t in targets}
        counter = itertools.count()
        for _ in range(rounds):
            for t in targets:
                count, latencies, errors = _load(t.port, seconds / rounds, idp_mix(t, n, counter))
                c, lat, e = got[t.name]
                got[t.name] = (c + count, lat + latencies, e + errors)
        base_count, _, _ = _load(server.port, seconds, lambda rng, seed: ("GET", "/healthz", None, {}))
    figures = {name: _figures(c, lat, e, seconds, name) for name, (c, lat, e) in got.items()}
    figures["ours"]["healthz_requests_per_s"] = round(base_count / seconds, 1)
    ours_s = seconds / got["ours"][0]
    results = [
        Result(
            f"SCIM IdP mix, {THREADS} threads (s/request)",
            n,
            ours_s,
            seconds / base_count,
            ours_label="gunicorn 2x8, SCIM mix",
            baseline_label="same server, GET /healthz",
            extra={**figures["ours"], "peers": "skipped (BENCH_PEERS)" if not peers else peers},
        )
    ]
    for t in targets[1:]:
        results.append(
            Result(
                f"SCIM IdP mix vs {t.name} (s/request)",
                n,
                ours_s,
                seconds / got[t.name][0],
                ours_label="ours, gunicorn 2x8",
                baseline_label=f"{t.name}, same client and data",
                extra={
                    "ours": figures["ours"],
                    t.name: figures[t.name],
                    "versions": t.versions,
                    "remove": "members[value eq]" if t.remove_by_filter else "value list",
                },
            )
        )
    if len(targets) > 1:
        best = max(targets[1:], key=lambda t: got[t.name][0])
        results.append(
            Result(
                "SCIM IdP mix vs the better peer (s/request)",
                n,
                ours_s,
                seconds / got[best.name][0],
                ours_label="ours",
                baseline_label=best.name,
                target=1 / 3,
                extra={"better_peer": best.name, "throughput_ratio": round(got["ours"][0] / got[best.name][0], 2)},
            )
        )
    return results
