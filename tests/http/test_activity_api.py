"""The admin API's /activity endpoint: the tenant's audit log."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from provisioning.activity import Actor
from provisioning.services import users
from tests.support.api import new_group, new_user


def events(client, tenant, query=""):
    r = client.get(f"/api/v1/activity?{query}", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json


def test_changes_made_through_the_api_are_logged_newest_first(client, tenant):
    user = new_user(client, tenant, "ann@example.org")
    group = new_group(client, tenant, "Math")
    log = events(client, tenant)
    assert [e["action"] for e in log["items"]] == ["group.created", "user.created"]
    created = log["items"][1]
    assert created["actor"] == "token:test admin" and created["channel"] == "api"
    assert (created["object_type"], created["object_id"]) == ("user", str(user["id"]))
    assert log["items"][0]["details"]["name"] == "Math" and log["items"][0]["object_id"] == str(group["id"])


def test_events_filter_by_action_channel_and_object(client, rt, tenant):
    ann = new_user(client, tenant, "ann@example.org")
    users.create_user(rt, tenant.id, {"email": "bob@example.org"}, Actor("okta", "scim"))
    client.patch(f"/api/v1/users/{ann['id']}", json={"title": "Nurse"}, headers=tenant.admin)
    assert events(client, tenant, "action=user.created")["total"] == 2
    scim = events(client, tenant, "channel=scim")
    assert [(e["action"], e["actor"]) for e in scim["items"]] == [("user.created", "okta")]
    about_ann = events(client, tenant, f"object_type=user&object_id={ann['id']}")
    assert [e["action"] for e in about_ann["items"]] == ["user.updated", "user.created"]
    assert about_ann["items"][0]["details"] == {"changed": ["title"]}


def test_events_filter_by_time_and_page_with_the_total(client, tenant):
    for n in range(3):
        new_user(client, tenant, f"user{n}@example.org")
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    assert events(client, tenant, f"since={quote((now - hour).isoformat())}")["total"] == 3
    assert events(client, tenant, f"since={quote((now + hour).isoformat())}")["total"] == 0
    assert events(client, tenant, f"until={quote((now - hour).isoformat())}")["total"] == 0
    page = events(client, tenant, "per_page=2&page=2")
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)


def test_an_unknown_channel_or_bad_time_is_a_400(client, tenant):
    r = client.get("/api/v1/activity?channel=fax&since=soon", headers=tenant.admin)
    assert r.status_code == 400 and set(r.json["errors"]) == {"channel", "since"}


def test_another_tenants_events_are_never_listed(client, tenant, other_tenant):
    new_user(client, other_tenant, "theirs@example.org")
    assert events(client, tenant)["total"] == 0
    assert events(client, other_tenant)["total"] == 1
