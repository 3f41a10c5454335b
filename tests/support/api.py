"""Helpers that drive the admin API (/api/v1) through a Flask test client, and read /metrics."""

from __future__ import annotations

import csv
import io
from typing import Any

from provisioning import operations

USER_FIELDS = {
    "id",
    "email",
    "username",
    "first_name",
    "last_name",
    "display_name",
    "status",
    "active",
    "role",
    "language",
    "locale",
    "timezone",
    "title",
    "external_id",
    "department",
    "division",
    "organization",
    "cost_center",
    "employee_number",
    "manager_id",
    "custom_attributes",
    "last_login_at",
    "created_at",
    "updated_at",
}


def new_user(client, tenant, email, **values):
    """Create a user through the API and return its JSON."""
    body = {
        "email": email,
        "first_name": values.pop("first_name", "Ann"),
        "last_name": values.pop("last_name", "Lee"),
        **values,
    }
    r = client.post("/api/v1/users", json=body, headers=tenant.admin)
    assert r.status_code == 201, r.json
    return r.json


def new_group(client, tenant, name, **values):
    """Create a group through the API and return its JSON."""
    r = client.post("/api/v1/groups", json={"name": name, **values}, headers=tenant.admin)
    assert r.status_code == 201, r.json
    return r.json


def batch(client, tenant, action: str, **body: Any):
    return client.post("/api/v1/batch-actions", json={"action": action, **body}, headers=tenant.admin)


def upload(client, tenant, content: bytes | str, filename: str = "members.csv", **form: Any):
    """POST /api/v1/imports with a file and form fields; returns the response."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    data = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in form.items()}
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/api/v1/imports", data=data, headers=tenant.admin, content_type="multipart/form-data")


def preview(client, tenant, content, filename: str = "members.csv", **form: Any) -> dict[str, Any]:
    r = upload(client, tenant, content, filename, **form)
    assert r.status_code == 201, r.json
    return r.json


def commit(client, tenant, import_id: int) -> int:
    r = client.post(f"/api/v1/imports/{import_id}/commit", headers=tenant.admin)
    assert r.status_code == 202, r.json
    return r.json["operation_id"]


def commit_and_run(client, tenant, run_jobs, rt, import_id: int):
    """Commit, run the queued job with the real RQ worker, and return the finished Operation."""
    op_id = commit(client, tenant, import_id)
    run_jobs()
    return operations.get_operation(rt, tenant.id, op_id)


def report(client, tenant, import_id: int) -> list[list[str]]:
    r = client.get(f"/api/v1/imports/{import_id}/report.csv", headers=tenant.admin)
    assert r.status_code == 200
    return list(csv.reader(io.StringIO(r.get_data(as_text=True))))[1:]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0
