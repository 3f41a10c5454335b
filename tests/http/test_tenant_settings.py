"""Tenant settings through the admin API (/api/v1/settings) and the CLI (provisioning tenants settings)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from provisioning.models import ActivityEvent
from provisioning.settings_catalog import DEFAULT_MANAGER_PERMISSIONS, KEYS
from server.cli import CliState, cli
from tests.support.factories import make_user

URL = "/api/v1/settings"


def patch(client, tenant, **body):
    return client.patch(URL, json=body, headers=tenant.admin)


def test_a_fresh_tenant_shows_every_setting_with_its_default(client, make_tenant, rt):
    tenant = make_tenant("Acme", seat_limit=50)
    make_user(rt, tenant.id, "ann")
    r = client.get(URL, headers=tenant.admin)
    assert r.status_code == 200
    assert set(r.json) == set(KEYS)
    assert r.json["join_url"] is None and r.json["default_language"] == "en"
    assert r.json["manager_permissions"] == list(DEFAULT_MANAGER_PERMISSIONS)
    assert r.json["seats"] == {"limit": 50, "used": 1}


def test_patch_changes_the_given_settings_keeps_the_others_and_is_audited(client, tenant, rt):
    r = patch(client, tenant, join_url=" https://lms.example.edu/login ", sender_name="Acme  Learning")
    assert r.status_code == 200, r.json
    assert r.json["join_url"] == "https://lms.example.edu/login" and r.json["sender_name"] == "Acme Learning"
    r = patch(client, tenant, default_language="de", manager_permissions=["export", "view_users", "export"])
    assert r.json["join_url"] == "https://lms.example.edu/login"
    assert (r.json["default_language"], r.json["manager_permissions"]) == ("de", ["view_users", "export"])
    assert client.get(URL, headers=tenant.admin).json == r.json
    with rt.db.read() as s:
        changes = [
            e.details["changes"]
            for e in s.scalars(select(ActivityEvent).where(ActivityEvent.action == "tenant.settings.changed"))
        ]
    assert changes[0] == {"join_url": "https://lms.example.edu/login", "sender_name": "Acme Learning"}
    assert changes[1]["default_language"] == "de"


def test_null_puts_a_setting_back_to_its_default(client, tenant):
    patch(client, tenant, default_language="es", password_reset_url="https://idp.example.edu/reset")
    r = patch(client, tenant, default_language=None, password_reset_url=None)
    assert (r.json["default_language"], r.json["password_reset_url"]) == ("en", None)


def test_bad_values_are_a_400_naming_each_key_and_nothing_changes(client, tenant):
    r = patch(
        client,
        tenant,
        join_url="ftp://lms.example.edu",
        default_language="klingon",
        manager_permissions=["view_users", "launch_rockets"],
        sender_name="   ",
    )
    assert r.status_code == 400
    errors = r.json["errors"]
    assert "http(s) URL" in errors["join_url"][0]
    assert "en, de, es" in errors["default_language"][0]
    assert "'launch_rockets'" in errors["manager_permissions"][0]
    assert "non-empty" in errors["sender_name"][0]
    assert client.get(URL, headers=tenant.admin).json["join_url"] is None
    assert patch(client, tenant, admin_roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]).json[
        "errors"
    ]["admin_roles"]


def test_wrong_types_unknown_keys_and_the_read_only_seats_are_refused(client, tenant):
    assert patch(client, tenant, join_url=42).status_code == 400
    r = patch(client, tenant, colour="blue")
    assert r.status_code == 400 and "colour" in r.json["errors"]
    r = patch(client, tenant, seats={"limit": 10**6})
    assert r.status_code == 400 and "read-only" in r.json["errors"]["seats"][0]


def test_the_lti_settings_endpoint_reads_and_writes_the_same_values(client, tenant):
    patch(client, tenant, manager_permissions=["upload"])
    assert client.get("/api/v1/lti/settings", headers=tenant.admin).json["manager_permissions"] == ["upload"]
    client.patch("/api/v1/lti/settings", json={"admin_roles": []}, headers=tenant.admin)
    assert client.get(URL, headers=tenant.admin).json["admin_roles"] == []


def test_each_tenant_sees_and_changes_only_its_own_settings(client, tenant, other_tenant):
    patch(client, tenant, join_url="https://acme.example.edu/login")
    assert client.get(URL, headers=other_tenant.admin).json["join_url"] is None
    patch(client, other_tenant, join_url="https://other.example.edu/login")
    assert client.get(URL, headers=tenant.admin).json["join_url"] == "https://acme.example.edu/login"


def test_only_an_admin_token_reads_or_changes_settings(client, tenant):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=tenant.scim).status_code in (401, 403)
    assert client.patch(URL, json={"sender_name": "X"}, headers=tenant.scim).status_code in (401, 403)
    assert client.get(URL, headers=tenant.admin).json["sender_name"] is None


def test_the_openapi_document_describes_every_setting(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    props = schemas["TenantSettingsPatch"]["properties"]
    assert set(props) == set(KEYS) and schemas["TenantSettingsPatch"]["additionalProperties"] is False
    assert "de" in props["default_language"]["enum"] and props["seats"]["readOnly"] is True
    assert all(p["description"] for p in props.values())
    assert set(schemas["TenantSettings"]["properties"]) == set(KEYS)


def run(rt, *args):
    return CliRunner().invoke(cli, list(args), obj=CliState(runtime=rt))


def test_the_cli_sets_unsets_and_prints_settings(rt, tenant, client):
    r = run(
        rt,
        "tenants",
        "settings",
        tenant.slug,
        "--set",
        "join_url=https://lms.example.edu/login",
        "--set",
        "manager_permissions=view_users,export",
        "--set",
        "default_language=es",
    )
    assert r.exit_code == 0, r.output
    rows = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in r.stdout.splitlines()[1:]}
    assert rows["join_url"] == "https://lms.example.edu/login" and rows["manager_permissions"] == "view_users, export"
    assert rows["seats"] == "0 used of no limit" and rows["sender_name"] == "(not set)"
    assert client.get(URL, headers=tenant.admin).json["default_language"] == "es"
    r = run(rt, "tenants", "settings", str(tenant.id), "--unset", "default_language", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["default_language"] == "en"
    events = client.get("/api/v1/activity?action=tenant.settings.changed", headers=tenant.admin).json
    assert {e["channel"] for e in events["items"]} == {"cli"}


def test_the_cli_refuses_bad_values_and_unknown_keys_without_a_traceback(rt, tenant):
    r = run(rt, "tenants", "settings", tenant.slug, "--set", "join_url=not a url", "--set", "colour=blue")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "join_url" in r.stderr and "colour" in r.stderr
    r = run(rt, "tenants", "settings", tenant.slug, "--set", "join_url")
    assert r.exit_code == 2 and "KEY=VALUE" in r.stderr
    assert run(rt, "tenants", "settings", "no-such-tenant").exit_code == 1
