"""The application factory: ``create_app()`` builds the whole web service.

The composition root: it alone knows every edge (admin API, SCIM, LTI, UI, invitation join links, health) and wires
them onto one Flask app over one Runtime (database + job queue, :mod:`jobs.bootstrap`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

import join
import lti
import scim
import ui
from api import init_api
from jobs.bootstrap import build_runtime
from jobs.schedule import start_in_process_report_scheduler
from jobs.sweep import start_in_process_sweeper
from provisioning.config import Settings
from provisioning.runtime import Runtime
from server.health import bp as health_bp
from web import observability, ratelimit

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Create the Flask app.

    With no arguments, settings come from the environment.  Tests pass a mapping of
    settings or a ready :class:`Runtime` (to share a database or a fake Redis).
    """
    if runtime is None:
        if config is None:
            settings = Settings.from_env()
        elif isinstance(config, Settings):
            settings = config
        else:
            settings = Settings.from_mapping(config)
        runtime = build_runtime(settings)
    settings = runtime.settings

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JSON_SORT_KEYS=False,
    )
    app.extensions["provisioning"] = runtime
    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]

    observability.init_app(app)
    ratelimit.init_app(app)
    app.register_blueprint(health_bp)
    init_api(app)
    scim.init_app(app)
    lti.init_app(app)
    ui.init_app(app)
    join.init_app(app)
    _start_background(app, runtime)
    return app


def _start_background(app: Flask, runtime: Runtime) -> None:
    """The embedded default also sweeps for lost jobs and starts scheduled reports in-process (the RQ
    worker does both otherwise).

    The sweeper and the report scheduler (None when disabled or on RQ) are kept in
    ``app.extensions["jobs_sweeper"]`` and ``["report_scheduler"]`` so an embedding program or a test can stop them.
    """
    app.extensions["jobs_sweeper"] = start_in_process_sweeper(runtime)
    app.extensions["report_scheduler"] = start_in_process_report_scheduler(runtime)


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["provisioning"]
