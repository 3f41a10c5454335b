"""Serve the web app: gunicorn where it is installed, else Flask's own server.

Each gunicorn worker process builds the app with the factory after the fork, so no
database connection or thread crosses a fork.
"""

from __future__ import annotations

import os
import tempfile

import click

from provisioning.config import Settings
from provisioning.observability.logs import configure_logging, gunicorn_logconfig


def safe_url(url: str) -> str:
    """A database or Redis URL fit for a terminal or a log: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never let a display helper fail a command
        return "<unparseable URL>"


def run_server(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (each worker builds it with the factory), else Flask's server."""
    jobs = "in this process" if not settings.redis_url else "on RQ (run `provisioning worker`)"
    where = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    configure_logging(settings.log_format, settings.log_level)
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # e.g. on Windows
        click.echo(f"Serving on {where} with Flask's server (gunicorn is not installed); jobs run {jobs}.", err=True)
        from server.app import create_app

        create_app(settings).run(host=host, port=port, threaded=True, use_reloader=False)
        return

    class Server(BaseApplication):
        def load_config(self) -> None:
            bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for key, value in {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                # No access log: the app logs one structured line per request itself.
                "accesslog": None,
                "errorlog": "-",
                "timeout": 120,
                "graceful_timeout": 30,
                "logconfig_dict": gunicorn_logconfig(settings.log_format, settings.log_level),
                "child_exit": _child_exit,
                "proc_name": "provisioning",
                # gunicorn >= 25.1: one shared control socket path would clash between instances
                "control_socket_disable": True,
            }.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            from server.app import create_app  # in the worker, after the metrics directory is set

            return create_app(settings)

    _prepare_multiprocess_metrics()
    click.echo(
        f"Serving on {where} with gunicorn: {workers} worker process(es) x {threads} threads; "
        f"jobs run {jobs}; database {safe_url(settings.database_url)}.",
        err=True,
    )
    Server().run()


def _prepare_multiprocess_metrics() -> None:
    """gunicorn's worker processes share their metrics through files (prometheus_client's
    multiprocess mode): a fresh directory unless PROMETHEUS_MULTIPROC_DIR names one.  It must
    be set before prometheus_client is imported, hence here, before the workers start, and
    hence no module the ``provisioning`` command imports at its top may import prometheus_client
    (the app, the job runner and the metrics are imported inside the functions that need them;
    tests/unit/test_layering.py holds that line)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="provisioning-metrics-")


def _child_exit(server, worker) -> None:
    from provisioning.observability.metrics import mark_process_dead

    mark_process_dead(worker.pid)
