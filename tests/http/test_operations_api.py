"""The admin API's /operations endpoints: the durable record of background work."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from jobs.handlers import HANDLERS
from provisioning.activity import Actor
from provisioning.models import OPERATION_TYPES
from provisioning.operations import start_operation
from tests.support.api import new_group, new_user

OPERATION_FIELDS = {
    "id",
    "type",
    "status",
    "progress",
    "result",
    "errors",
    "requested_by",
    "created_at",
    "started_at",
    "finished_at",
}


def request_copy(client, tenant, members=2):
    """Ask for a members_copy operation through the API; returns (operation id, target group id)."""
    source = new_group(client, tenant, f"Source {members}")
    target = new_group(client, tenant, f"Target {members}")
    ids = [new_user(client, tenant, f"user{members}-{n}@example.org")["id"] for n in range(members)]
    client.post(f"/api/v1/groups/{source['id']}/members", json={"user_ids": ids}, headers=tenant.admin)
    r = client.post(
        f"/api/v1/groups/{target['id']}/members/copy", json={"from_group_id": source["id"]}, headers=tenant.admin
    )
    assert r.status_code == 202, r.json
    return r.json["operation_id"], target["id"]


def start(rt, tenant, type):
    """An operation of another type, started through the service (only members_copy has an endpoint)."""
    with rt.db.transaction() as s:
        return start_operation(s, rt, tenant.id, type, {}, Actor("test", "cli")).id


def listing(client, tenant, query=""):
    r = client.get(f"/api/v1/operations?{query}", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json


def test_a_queued_operation_shows_every_field(client, tenant):
    op_id, _ = request_copy(client, tenant)
    op = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin).json
    assert set(op) >= OPERATION_FIELDS
    assert op["status"] == "queued" and op["progress"] == {"done": 0, "total": 2}
    assert op["requested_by"] == "token:test admin" and op["started_at"] is None and op["finished_at"] is None
    assert op["errors"] == []


def test_a_finished_operation_has_its_times_and_result(client, tenant, run_jobs):
    op_id, _ = request_copy(client, tenant)
    run_jobs()
    op = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin).json
    assert op["status"] == "succeeded" and op["result"] == {"added": 2, "already_members": 0}
    assert op["created_at"] <= op["started_at"] <= op["finished_at"]


def test_list_filters_by_type_and_status_newest_first(client, rt, tenant, run_jobs):
    copy_id, _ = request_copy(client, tenant)
    run_jobs()
    import_id = start(rt, tenant, "import")
    assert [o["id"] for o in listing(client, tenant)["items"]] == [import_id, copy_id]
    assert [o["id"] for o in listing(client, tenant, "type=members_copy")["items"]] == [copy_id]
    assert [o["id"] for o in listing(client, tenant, "status=queued")["items"]] == [import_id]
    assert [o["id"] for o in listing(client, tenant, "status=succeeded&type=import")["items"]] == []


def test_list_filters_by_creation_time(client, rt, tenant):
    op_id = start(rt, tenant, "import")
    now = datetime.now(UTC)
    hour = timedelta(hours=1)

    def ids(**bounds):
        query = "&".join(f"{k}={quote(v.isoformat())}" for k, v in bounds.items())
        return [o["id"] for o in listing(client, tenant, query)["items"]]

    assert ids(since=now - hour) == [op_id]
    assert ids(since=now + hour) == []
    assert ids(until=now + hour) == [op_id]
    assert ids(until=now - hour) == []
    # A time without an offset is UTC.
    assert ids(since=(now - hour).replace(tzinfo=None)) == [op_id]


def test_list_filters_by_bulk_action(client, rt, tenant):
    user = new_user(client, tenant, "bulk@example.org")
    ids = {}
    for action in ("deactivate", "reactivate"):
        r = client.post(
            "/api/v1/batch-actions", json={"action": action, "user_ids": [user["id"]]}, headers=tenant.admin
        )
        assert r.status_code == 202, r.json
        ids[action] = r.json["operation_id"]
    start(rt, tenant, "import")
    assert [o["id"] for o in listing(client, tenant, "action=deactivate")["items"]] == [ids["deactivate"]]
    assert [o["id"] for o in listing(client, tenant, "action=reactivate&type=batch_action")["items"]] == [
        ids["reactivate"]
    ]
    assert listing(client, tenant, "action=delete")["items"] == []


def test_an_unknown_type_or_action_is_a_400_naming_the_known_ones(client, tenant):
    r = client.get("/api/v1/operations?type=deactivate", headers=tenant.admin)
    assert r.status_code == 400 and "batch_action" in str(r.json["errors"]["type"])
    r = client.get("/api/v1/operations?action=nope", headers=tenant.admin)
    assert r.status_code == 400 and "reactivate" in str(r.json["errors"]["action"])


def test_list_pages_with_the_total(client, rt, tenant):
    for _ in range(3):
        start(rt, tenant, "import")
    page = listing(client, tenant, "per_page=2&page=2")
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=done", "status"),
        ("since=yesterday", "since"),
        ("until=0001-01-01T00:00:00%2B14:00", "until"),
        ("per_page=501", "per_page"),
        ("type=deactivate", "type"),
        ("type=csv_import", "type"),
        ("action=explode", "action"),
        ("page=abc", "page"),
    ],
)
def test_bad_list_parameters_are_400s_naming_them(client, tenant, query, field):
    r = client.get(f"/api/v1/operations?{query}", headers=tenant.admin)
    assert r.status_code == 400 and list(r.json["errors"]) == [field]


def test_cancelling_a_queued_operation_stops_it_before_it_runs(client, tenant, run_jobs):
    op_id, target_id = request_copy(client, tenant)
    r = client.post(f"/api/v1/operations/{op_id}/cancel", headers=tenant.admin)
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["finished_at"]
    run_jobs()
    op = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin).json
    assert op["status"] == "cancelled" and op["progress"]["done"] == 0
    members = client.get(f"/api/v1/groups/{target_id}/members", headers=tenant.admin).json
    assert members["total"] == 0


def test_cancelling_a_finished_operation_changes_nothing(client, tenant, run_jobs):
    op_id, _ = request_copy(client, tenant)
    run_jobs()
    before = client.get(f"/api/v1/operations/{op_id}", headers=tenant.admin).json
    r = client.post(f"/api/v1/operations/{op_id}/cancel", headers=tenant.admin)
    assert r.status_code == 200 and r.json == before


def test_an_unknown_operation_is_a_404(client, tenant):
    assert client.get("/api/v1/operations/12345", headers=tenant.admin).status_code == 404
    assert client.post("/api/v1/operations/12345/cancel", headers=tenant.admin).status_code == 404


def test_every_operation_type_the_filter_accepts_has_a_job():
    assert set(OPERATION_TYPES) <= set(HANDLERS)


def test_list_filters_by_group(client, tenant):
    """Issue 17 item 6: the user action log by group (a copy into it here, not the one into another)."""
    op_id, target_id = request_copy(client, tenant, members=1)
    other_op, _ = request_copy(client, tenant, members=2)
    r = client.get(f"/api/v1/operations?group_id={target_id}", headers=tenant.admin)
    assert r.status_code == 200 and [o["id"] for o in r.json["items"]] == [op_id]
    assert client.get("/api/v1/operations?group_id=0", headers=tenant.admin).status_code == 400
