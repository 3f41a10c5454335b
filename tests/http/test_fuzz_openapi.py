"""schemathesis against /api/v1/openapi.json, in process through the WSGI app.

Every documented operation is called with generated data, valid (``positive``) and invalid
(``negative``), with tenant A's admin token; each response must be no 5xx, a status code the
document lists, of the documented content type, with a body and headers that match the document.
A last pass replaces every string of a valid request (JSON body and query) with text PostgreSQL
can't store or that is otherwise hostile (NUL, lone surrogates high and low, U+FFFE/U+FFFF, 10,000
characters): the input rule (provisioning/text.py) answers those with a documented 400, never a 5xx.
Examples are derandomized (a fixed seed per operation), so CI sees the same requests every run.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
# Lone surrogates only go in JSON bodies (escaped as \ud800): a URL can't carry them as text at all.
HOSTILE_QUERY = ["\x00", "a\x00b", "\ufffe", "\uffff", "q" * 10_000]
HOSTILE_BODY = [*HOSTILE_QUERY, "\ud800", "\udfff", "x\udc00\ud800y"]


def _poison(value, hostile: str):
    """``value`` with every string (object keys too, for bodies) replaced by ``hostile``."""
    if isinstance(value, str):
        return hostile
    if isinstance(value, list):
        return [_poison(v, hostile) for v in value]
    if isinstance(value, dict):
        return {k: _poison(v, hostile) for k, v in value.items()}
    return value


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

    @given(
        case=operation.as_strategy(generation_mode=MODES[0], path_parameters=real if names and real else None),
        body_text=st.sampled_from(HOSTILE_BODY),
        query_text=st.sampled_from(HOSTILE_QUERY),
    )
    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def hostile(case, body_text, query_text):
        # Sent by the test client itself: schemathesis can't serialise a lone surrogate.
        body = _poison(case.body, body_text) if isinstance(case.body, (dict, list)) else None
        query = _poison(dict(case.query), query_text) if case.query else None
        if body is None and query is None:
            return
        r = client.open(
            case.formatted_path,
            method=case.method,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json" if body is not None else None,
            query_string=query,
            headers=tenant.admin,
        )
        text = r.get_data(as_text=True)
        assert r.status_code < 500, (case.method, case.formatted_path, r.status_code, text[:300])
        if r.status_code == 400:
            assert r.is_json and r.json["message"].strip() and "Traceback" not in text

    hostile()
