"""schemathesis against /api/v1/openapi.json, in process through the WSGI app.

Every documented operation is called with generated data, valid (``positive``) and invalid
(``negative``), with tenant A's admin token; each response must be no 5xx, a status code the
document lists, of the documented content type, with a body and headers that match the document.
Examples are derandomized (a fixed seed per operation), so CI sees the same requests every run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from tests.support.isolation import BUILDERS, World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 15  # per operation and pass: ~42 operations x 3 passes keeps the file near 1.5 minutes on 2 cores
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def _operations():
    app = create_app({"database_url": "sqlite://", "secret_key": "collect-only", "jobs_sweep_interval": 0})
    document = app.test_client().get("/api/v1/openapi.json").json
    return [
        pytest.param(path, method, id=f"{method.upper()} {path}")
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path, method", _operations())
def test_every_documented_operation_answers_generated_requests_as_documented(
    rt, app, client, tenant, other_tenant, path, method
):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    # Generated ids mostly name nothing; a third pass aims the generated bodies and queries at real
    # objects of the caller's tenant (built as the tenant-isolation test builds them).
    world = World(rt, client, tenant, other_tenant)
    names = {p.name for p in operation.path_parameters}
    real = {name: world.id("a", name) for name in names} if names <= BUILDERS.keys() else None
    passes = [(mode, None) for mode in MODES] + ([(MODES[0], real)] if names and real else [])
    for mode, path_parameters in passes:

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=tenant.admin, checks=CHECKS)

        check()
