"""The application factory: ``create_app()`` builds the whole web service."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, jsonify

from provisioning.bootstrap import build_runtime
from provisioning.config import Settings
from provisioning.runtime import Runtime

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

    from provisioning.api import init_api
    from provisioning.health import bp as health_bp
    from provisioning.observability import web as observability

    observability.init_app(app)
    app.register_blueprint(health_bp)
    init_api(app)
    _register_optional_blueprints(app)
    _start_background(app, runtime)
    return app


def _register_optional_blueprints(app: Flask) -> None:
    """SCIM and LTI register themselves when their packages provide ``init_app``."""
    import importlib

    for name in ("scim", "lti"):
        module = importlib.import_module(name)
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def _start_background(app: Flask, runtime: Runtime) -> None:
    """The embedded default also sweeps for lost jobs in-process (the RQ worker does it otherwise).

    The sweeper (None when disabled or on RQ) is kept in ``app.extensions["jobs_sweeper"]``
    so an embedding program or a test can stop it.
    """
    from jobs.sweep import start_in_process_sweeper

    app.extensions["jobs_sweeper"] = start_in_process_sweeper(runtime)


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["provisioning"]


