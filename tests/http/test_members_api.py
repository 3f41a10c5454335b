"""The admin API's /groups/{id}/members endpoints, including copying members in the background."""

import time

import pytest

from server.app import create_app
from tests.support.api import USER_FIELDS, new_group, new_user


def member_emails(client, tenant, group_id):
    r = client.get(f"/api/v1/groups/{group_id}/members?per_page=500", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return sorted(m["email"] for m in r.json["items"])


def add(client, tenant, group_id, **body):
    return client.post(f"/api/v1/groups/{group_id}/members", json=body, headers=tenant.admin)


def test_members_are_added_by_id_and_by_email_with_counts(client, tenant):
    group = new_group(client, tenant, "Math")
    ann = new_user(client, tenant, "ann@example.org")
    new_user(client, tenant, "bob@example.org")
    r = add(client, tenant, group["id"], user_ids=[ann["id"]])
    assert r.status_code == 200 and r.json == {"added": 1, "already_members": 0}
    r = add(client, tenant, group["id"], user_ids=[ann["id"]], emails=["BOB@example.org"])
    assert r.json == {"added": 1, "already_members": 1}
    assert member_emails(client, tenant, group["id"]) == ["ann@example.org", "bob@example.org"]
    assert client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).json["member_count"] == 2


def test_a_member_item_is_the_user_plus_source_and_added_at(client, tenant):
    group = new_group(client, tenant, "Math")
    ann = new_user(client, tenant, "ann@example.org", department="Sales")
    add(client, tenant, group["id"], user_ids=[ann["id"]])
    item = client.get(f"/api/v1/groups/{group['id']}/members", headers=tenant.admin).json["items"][0]
    assert set(item) >= USER_FIELDS | {"source", "added_at"}
    assert item["id"] == ann["id"] and item["department"] == "Sales"
    assert item["source"] == "manual" and item["added_at"] and "last_login_at" in item


def test_members_are_paged_with_the_total_and_searchable(client, tenant):
    group = new_group(client, tenant, "Math")
    ids = [new_user(client, tenant, f"user{n}@example.org")["id"] for n in range(5)]
    add(client, tenant, group["id"], user_ids=ids)
    page = client.get(f"/api/v1/groups/{group['id']}/members?page=2&per_page=2", headers=tenant.admin).json
    assert (page["total"], page["page"], page["per_page"]) == (5, 2, 2)
    assert [m["id"] for m in page["items"]] == ids[2:4]
    found = client.get(f"/api/v1/groups/{group['id']}/members?q=USER3", headers=tenant.admin).json
    assert [m["email"] for m in found["items"]] == ["user3@example.org"]


def test_unknown_users_refuse_the_whole_request_and_are_named(client, tenant):
    group = new_group(client, tenant, "Math")
    ann = new_user(client, tenant, "ann@example.org")
    r = add(client, tenant, group["id"], user_ids=[ann["id"], 999], emails=["nobody@example.org"])
    assert r.status_code == 400
    assert r.json["errors"] == {
        "user_ids": ["No user with id 999."],
        "emails": ["No user with email 'nobody@example.org'."],
    }
    assert member_emails(client, tenant, group["id"]) == []


def test_unknown_emails_become_invited_members_when_asked(client, tenant, rt):
    from provisioning.services import tenants as tenant_service

    with rt.db.transaction() as s:
        tenant_service.load_tenant(s, tenant.id).settings = {"join_url": "https://lms.example.org/join"}
    group = new_group(client, tenant, "Math")
    emails = ["new1@example.org", "new2@example.org"]
    assert add(client, tenant, group["id"], emails=emails).status_code == 400
    r = add(client, tenant, group["id"], emails=emails, invite=True)
    assert r.status_code == 200 and r.json == {"added": 2, "already_members": 0}
    items = client.get(f"/api/v1/groups/{group['id']}/members", headers=tenant.admin).json["items"]
    assert sorted((m["email"], m["status"]) for m in items) == [(e, "invited") for e in emails]


def test_an_empty_or_malformed_member_list_is_a_400(client, tenant):
    group = new_group(client, tenant, "Math")
    assert add(client, tenant, group["id"]).status_code == 400
    assert add(client, tenant, group["id"], user_ids=[]).status_code == 400
    r = add(client, tenant, group["id"], user_ids=["1", 2**70, -3])
    assert r.status_code == 400 and set(r.json["errors"]["user_ids"]) == {"0", "1", "2"}
    assert add(client, tenant, group["id"], user_ids=5).status_code == 400


def test_removing_a_member_keeps_the_others_and_a_second_removal_is_a_404(client, tenant):
    group = new_group(client, tenant, "Math")
    ann = new_user(client, tenant, "ann@example.org")
    bob = new_user(client, tenant, "bob@example.org")
    add(client, tenant, group["id"], user_ids=[ann["id"], bob["id"]])
    url = f"/api/v1/groups/{group['id']}/members/{ann['id']}"
    assert client.delete(url, headers=tenant.admin).status_code == 204
    assert member_emails(client, tenant, group["id"]) == ["bob@example.org"]
    assert client.delete(url, headers=tenant.admin).status_code == 404


def test_automatic_groups_refuse_hand_edits(client, tenant):
    group = new_group(client, tenant, "Everyone", kind="automatic")
    ann = new_user(client, tenant, "ann@example.org")
    r = add(client, tenant, group["id"], user_ids=[ann["id"]])
    assert r.status_code == 409 and "automatic" in r.json["message"]


def test_members_of_an_unknown_group_are_a_404(client, tenant):
    assert client.get("/api/v1/groups/999/members", headers=tenant.admin).status_code == 404
    assert add(client, tenant, 999, user_ids=[1]).status_code == 404


def _copy_setup(client, tenant):
    source = new_group(client, tenant, "Source")
    target = new_group(client, tenant, "Target")
    ids = [new_user(client, tenant, f"user{n}@example.org")["id"] for n in range(3)]
    add(client, tenant, source["id"], user_ids=ids)
    add(client, tenant, target["id"], user_ids=ids[:1])
    return source, target


def test_copying_members_runs_as_an_operation_on_the_rq_worker(client, tenant, run_jobs):
    source, target = _copy_setup(client, tenant)
    r = client.post(
        f"/api/v1/groups/{target['id']}/members/copy", json={"from_group_id": source["id"]}, headers=tenant.admin
    )
    assert r.status_code == 202 and set(r.json) == {"operation_id"}
    op_url = f"/api/v1/operations/{r.json['operation_id']}"
    assert client.get(op_url, headers=tenant.admin).json["status"] == "queued"
    run_jobs()
    op = client.get(op_url, headers=tenant.admin).json
    assert op["type"] == "members_copy" and op["status"] == "succeeded"
    assert op["progress"] == {"done": 3, "total": 3}
    assert op["result"] == {"added": 2, "already_members": 1}
    assert len(member_emails(client, tenant, target["id"])) == 3


def test_copying_members_runs_on_a_thread_without_redis(client, tenant, settings):
    source, target = _copy_setup(client, tenant)
    embedded = create_app(
        {"database_url": settings.database_url, "secret_key": "test-secret", "jobs_sweep_interval": 0}
    )
    try:
        web = embedded.test_client()
        r = web.post(
            f"/api/v1/groups/{target['id']}/members/copy", json={"from_group_id": source["id"]}, headers=tenant.admin
        )
        assert r.status_code == 202
        op_url = f"/api/v1/operations/{r.json['operation_id']}"
        deadline = time.monotonic() + 15
        while (op := web.get(op_url, headers=tenant.admin).json)["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, op
            time.sleep(0.05)
        assert op["status"] == "succeeded" and op["result"] == {"added": 2, "already_members": 1}
        assert len(member_emails(web, tenant, target["id"])) == 3
    finally:
        runtime = embedded.extensions["provisioning"]
        runtime.queue.shutdown()
        runtime.db.dispose()


def test_copying_from_the_same_group_is_a_400_and_from_an_unknown_one_a_404(client, tenant, other_tenant):
    group = new_group(client, tenant, "Math")
    theirs = new_group(client, other_tenant, "Their group")
    url = f"/api/v1/groups/{group['id']}/members/copy"
    r = client.post(url, json={"from_group_id": group["id"]}, headers=tenant.admin)
    assert r.status_code == 400 and "from_group_id" in r.json["errors"]
    assert client.post(url, json={"from_group_id": theirs["id"]}, headers=tenant.admin).status_code == 404
    assert client.post(url, json={}, headers=tenant.admin).status_code == 400
    assert client.get("/api/v1/operations", headers=tenant.admin).json["total"] == 0


@pytest.mark.parametrize("value", [True, 1.5, "7", None])
def test_ids_in_bodies_must_be_whole_numbers(client, tenant, value):
    group = new_group(client, tenant, "Math")
    r = client.post(f"/api/v1/groups/{group['id']}/members/copy", json={"from_group_id": value}, headers=tenant.admin)
    assert r.status_code == 400 and "from_group_id" in r.json["errors"]
