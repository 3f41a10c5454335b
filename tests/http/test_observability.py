"""Operations: a request id and one structured JSON log line per request, the request id in the
job's log lines, no secrets or tracebacks in responses or logs, Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from provisioning.observability.logs import JsonFormatter, redact
from tests.support.api import metric
from tests.support.jobs import start_rows_operation


@pytest.fixture
def json_log():
    """Every log record of the process, as the service writes them (JSON lines), in a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    lines.text = lambda: stream.getvalue()
    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "provisioning.request"]


def test_every_request_gets_a_request_id_in_its_response_and_one_json_log_line(client, tenant, json_log):
    r = client.get("/api/v1/groups", headers=tenant.admin)
    assert r.status_code == 200
    generated = r.headers["X-Request-ID"]
    assert len(generated) == 32

    r = client.get("/api/v1/groups/12345", headers={**tenant.admin, "X-Request-ID": "lb-7f3a.1"})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == "lb-7f3a.1"

    r = client.get("/healthz", headers={"X-Request-ID": 'two words {"level": "ERROR"}'})
    assert r.headers["X-Request-ID"] != 'two words {"level": "ERROR"}' and len(r.headers["X-Request-ID"]) == 32

    lines = request_lines(json_log())
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/api/v1/groups", 200),
        ("GET", "/api/v1/groups/12345", 404),
        ("GET", "/healthz", 200),
    ]
    assert [x["request_id"] for x in lines[:2]] == [generated, "lb-7f3a.1"]
    assert lines[1]["route"] == "/api/v1/groups/<int:group_id>"
    assert all(isinstance(x["duration_ms"], float) and x["duration_ms"] >= 0 and x["level"] == "INFO" for x in lines)


def test_the_request_id_of_the_request_that_started_a_job_is_in_the_jobs_log_lines(client, tenant, run_jobs, json_log):
    r = client.post("/api/v1/groups", json={"name": "Source"}, headers=tenant.admin)
    source = r.json["id"]
    target = client.post("/api/v1/groups", json={"name": "Target"}, headers=tenant.admin).json["id"]
    r = client.post(
        f"/api/v1/groups/{target}/members/copy",
        json={"from_group_id": source},
        headers={**tenant.admin, "X-Request-ID": "copy-request-42"},
    )
    assert r.status_code == 202
    op_id = r.json["operation_id"]
    run_jobs()

    job_lines = [x for x in json_log() if x.get("operation_id") == op_id]
    assert {x["message"].split()[-1] for x in job_lines if "started" in x["message"]} == {"started"}
    assert any("succeeded" in x["message"] for x in job_lines)
    assert job_lines and {x["request_id"] for x in job_lines} == {"copy-request-42"}


def test_tokens_and_passwords_never_reach_the_log_or_a_response(rt, client, tenant, run_jobs, json_log):
    client.get("/api/v1/groups", headers=tenant.admin)
    client.get("/scim/v2/Users", headers=tenant.scim)
    client.get("/api/v1/groups", headers={"Authorization": "Bearer prov_not_a_real_token_123"})
    # A job failing with a password in its exception message (an SMTP or database URL, say).
    op_id = start_rows_operation(rt, tenant.id, rows=10, chunk=5, fail_at=5)
    run_jobs()
    logging.getLogger("provisioning.test").warning("connecting to smtp://mailer:s3cr3t-pw@mail.example.edu:587")

    text = json_log.text()
    assert "exception" in text and "Traceback" in text  # the log does keep the traceback...
    for secret in (tenant.admin_token, tenant.scim_token, "prov_not_a_real_token_123", "hunter2", "s3cr3t-pw"):
        assert secret not in text  # ...but never a secret
    op = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin)
    assert op.json["status"] == "failed"
    assert "hunter2" not in op.get_data(as_text=True) and "Traceback" not in op.get_data(as_text=True)


def test_an_unexpected_error_answers_500_with_an_incident_id_and_logs_one_line_with_the_request_id(
    app, client, json_log
):
    def boom():
        raise RuntimeError("password=hunter2 while talking to the database")

    app.add_url_rule("/api/v1/test-boom", "test_boom", boom)
    app.add_url_rule("/scim/v2/test-boom", "test_scim_boom", boom)  # outside the SCIM blueprint: app handler
    r = client.get("/api/v1/test-boom", headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    incident = re.fullmatch(r"Internal error \(incident ([0-9a-f]+)\)\. The incident was logged\.", r.json["message"])
    assert incident, r.json["message"]
    assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body
    errors = [x for x in json_log() if x["level"] == "ERROR"]
    # One line for the operator: the incident id the response showed, the error's type, no traceback.
    assert errors and errors[0]["request_id"] == "boom-1" and "exception" not in errors[0]
    assert f"incident {incident.group(1)}" in errors[0]["message"] and "RuntimeError" in errors[0]["message"]
    assert "hunter2" not in json.dumps(errors)


def test_redaction_masks_bearer_tokens_url_passwords_and_secret_pairs():
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]"
    assert redact("smtps://ann:pa%40ss@mail:465") == "smtps://ann:[redacted]@mail:465"
    assert redact("postgresql://u:p@db/x token=xyz&a=1") == "postgresql://u:[redacted]@db/x token=[redacted]&a=1"
    assert redact("made prov_AbC_123-x") == "made prov_[redacted]"
    assert redact("GET /api/v1/groups 200") == "GET /api/v1/groups 200"


def scrape(client, rt) -> str:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {rt.settings.metrics_token}"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    return r.get_data(as_text=True)


def test_metrics_are_off_without_metrics_token_and_need_it_when_set(rt, client):
    rt.settings.metrics_token = None
    assert client.get("/metrics").status_code == 404
    rt.settings.metrics_token = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_metrics_count_requests_by_route_template_jobs_by_type_and_outcome_and_queue_depth(
    rt, client, tenant, run_jobs
):
    rt.settings.metrics_token = "scrape-secret"
    route = "/api/v1/groups/<int:group_id>"
    before = scrape(client, rt)
    for group_id in (1, 2, 3):
        assert client.get(f"/api/v1/groups/{group_id}", headers=tenant.admin).status_code == 404
    ok = start_rows_operation(rt, tenant.id, rows=4, chunk=2)
    bad = start_rows_operation(rt, tenant.id, rows=4, chunk=2, fail_at=2)
    waiting = scrape(client, rt)
    assert metric(waiting, "provisioning_queue_depth", state="waiting") == 2
    assert metric(waiting, "provisioning_operations", status="queued") == 2
    run_jobs()
    after = scrape(client, rt)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("provisioning_http_requests_total", method="GET", route=route, status="404") == 3
    assert delta("provisioning_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert delta("provisioning_jobs_total", type="test_rows", outcome="succeeded") == 1
    assert delta("provisioning_jobs_total", type="test_rows", outcome="failed") == 1
    assert delta("provisioning_job_duration_seconds_count", type="test_rows", outcome="succeeded") == 1
    assert metric(after, "provisioning_queue_depth", state="waiting") == 0
    assert metric(after, "provisioning_operations", status="queued") == 0
    assert {ok, bad}  # both ran: one succeeded, one failed (counted above)
