"""Wires observability into the Flask app: a request id and one log line per request,
request metrics, /metrics, and 503 (not 500) while the database is unreachable."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from sqlalchemy import exc as sa_exc

from provisioning.observability import context, metrics
from provisioning.operations import count_active

log = logging.getLogger("provisioning.request")

REQUEST_ID_HEADER = "X-Request-ID"
# What the database being down or restarting looks like from SQLAlchemy: a refused or broken
# connection (OperationalError, InterfaceError), or no connection free in time (TimeoutError).
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
UNAVAILABLE_RETRY_AFTER = "5"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable (its database cannot be reached). Retry shortly."


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.add_url_rule("/metrics", "metrics", _metrics)
    for exc_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(exc_class, _database_unavailable)


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = context.accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id_token = context.set_request_id(g.request_id)


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or context.new_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    # The route template (/api/v1/groups/<int:group_id>), never the raw path: bounded label values.
    route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    line = {
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "route": route,
        "status": response.status_code,
        "remote_addr": request.remote_addr,
    }
    if response.is_streamed and not response.direct_passthrough:
        # The body is produced after this hook returns (an export runs its query then): the request is
        # logged when the server has sent the last byte, or when producing the body failed.  A file sent
        # as it is (static files: direct_passthrough) keeps the server's file wrapper (sendfile).
        response.response = _streamed(response.response, line, started)
        return response
    _log_request(line, started)
    return response


def _streamed(body: Iterable[Any], line: dict[str, Any], started: float | None) -> Iterator[Any]:
    """``body``, logged with its real duration when it ends; an error while streaming is one log line.

    The status line has gone out already, so nothing can be sent in its place: the client sees a
    cut-off body.  The error (a query cancelled by statement_timeout or by an operator, the database
    gone) is logged as one warning naming it, never as a traceback (issue 18).
    """
    failed: str | None = None
    try:
        yield from body
    except GeneratorExit:  # the client went away: nothing more to send
        failed = "client disconnected"
        raise
    except Exception as exc:  # noqa: BLE001 - the response has started: log it, end the body
        failed = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        log.warning(
            "%s %s streamed response stopped: %s",
            line["method"],
            line["path"],
            failed,
            extra={**line, "error": failed},
        )
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
        _log_request(line if failed is None else {**line, "stream_error": failed}, started)


def _log_request(line: dict[str, Any], started: float | None) -> None:
    seconds = time.perf_counter() - started if started is not None else 0.0
    metrics.observe_request(line["method"], line["route"], line["status"], seconds)
    log.info(
        "%s %s %s %.1f ms",
        line["method"],
        line["path"],
        line["status"],
        seconds * 1000,
        extra={**line, "duration_ms": round(seconds * 1000, 2)},
    )


def _forget(_exc) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            context.reset_request_id(token)
        except ValueError:  # set in another context (a streamed response): nothing to undo
            pass


def _metrics():
    """Prometheus metrics, for a scraper presenting METRICS_TOKEN as a bearer token.

    Without METRICS_TOKEN the endpoint is off (404): it names routes, job types and
    queue sizes, which are nobody's business by default.
    """
    expected = current_app.extensions["provisioning"].settings.metrics_token
    if not expected:
        return Response("Not found.\n", status=404, mimetype="text/plain")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        return Response(
            "A valid bearer token (METRICS_TOKEN) is required.\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(
        metrics.render(_live_gauges(current_app.extensions["provisioning"])), mimetype=CONTENT_TYPE_LATEST.split(";")[0]
    )


def _database_unavailable(exc):
    """The database is down or restarting: 503 with Retry-After, at once (the pool reconnects
    by itself once it is back; pool_pre_ping drops the dead connections)."""
    log.warning("database unavailable on %s %s (%s)", request.method, request.path, type(exc).__name__)
    if request.path.startswith("/api/"):
        response = jsonify(code=503, status="Service Unavailable", message=UNAVAILABLE_MESSAGE)
    else:
        response = Response(UNAVAILABLE_MESSAGE + "\n", mimetype="text/plain")
    response.status_code = 503
    response.headers["Retry-After"] = UNAVAILABLE_RETRY_AFTER
    return response


def _live_gauges(rt) -> metrics.QueueCollector:
    return metrics.QueueCollector(rt.settings.queue_name, rt.queue.depth, lambda: count_active(rt))
