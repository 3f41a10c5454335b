"""The admin REST API under /api/v1, documented by OpenAPI generated from its schemas."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_smorest import Api

from api.auth import SECURITY_SCHEME
from api.errors import register_error_handlers


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Provisioning admin API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Groups, users, memberships and background "
                "operations of one tenant. Authenticate with an "
                "admin token: `Authorization: Bearer prov_...`."
            }
        },
    )
    api.spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
    api.spec.options["security"] = [{"bearerAuth": []}]

    from api import (
        activity,
        batch_actions,
        courses,
        emails,
        exports,
        groups,
        imports,
        lti_registrations,
        lti_roster,
        lti_settings,
        members,
        notifications,
        operations,
        reports,
        roles,
        rules,
        settings,
        tasks,
        users,
    )
    from api.schemas import MAX_ID

    for module in (
        groups,
        members,
        users,
        operations,
        activity,  # foundation
        imports,
        exports,  # CSV/XLSX imports and member exports
        courses,
        rules,  # courses, enrollments, automatic-group rules
        batch_actions,
        emails,
        notifications,
        tasks,  # batch actions, email log, automatic notifications, users' tasks and records
        reports,  # group progress reports, their runs and schedules
        lti_roster,
        lti_settings,
        lti_registrations,
        roles,  # the tenant's roles
        settings,  # the tenant's settings
    ):  # roster sync of LMS courses, the tenant's LTI settings, the LMSs registered with the tenant
        api.register_blueprint(module.blp, url_prefix="/api/v1")

    @app.url_value_preprocessor
    def _ids_in_range(endpoint, values):
        # werkzeug's int converter accepts any length; an id beyond 64 bits names nothing here.
        if request.path.startswith("/api/") and any(isinstance(v, int) and v > MAX_ID for v in (values or {}).values()):
            abort(404, description="No such object.")

    register_error_handlers(app)
    app.extensions["provisioning_api"] = api
    return api
