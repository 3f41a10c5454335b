"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive (checks nothing else)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and, when configured, Redis answer."""
    rt = current_app.extensions["provisioning"]
    checks: dict[str, str] = {}
    ok = True
    try:
        rt.db.ping()
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unreachable"
        ok = False
    if rt.settings.redis_url or type(rt.queue).__name__ == "RQQueue":
        try:
            rt.queue.ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unreachable"
            ok = False
    return jsonify(status="ok" if ok else "unavailable", checks=checks), (200 if ok else 503)
