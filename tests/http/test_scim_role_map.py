"""The tenant's scim_role_map (issue 17 item 5): an identity provider's SCIM roles (RFC 7643 §4.1.2 ``roles``)
give the tenant role an admin chose, entry by entry; with the empty map (the default) they give nothing
(tests/http/test_roles.py).  Creating, replacing (RFC 7644 §3.5.1) and patching (§3.5.2 add/replace/remove)
a user's roles all follow the map; a role an admin gave by hand is never changed by the identity provider."""

from __future__ import annotations

from click.testing import CliRunner

from server.cli import CliState, cli
from tests.support.api import batch, commit_and_run, preview

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _map(client, tenant, mapping):
    r = client.patch("/api/v1/settings", json={"scim_role_map": mapping}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json["scim_role_map"]


def _create(client, tenant, name: str, roles: list) -> str:
    body = {"schemas": [USER], "userName": name, "emails": [{"value": name, "primary": True}], "roles": roles}
    r = client.post("/scim/v2/Users", json=body, headers=tenant.scim)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _patch(client, tenant, uid: str, *ops):
    r = client.patch(f"/scim/v2/Users/{uid}", json={"schemas": [PATCH], "Operations": list(ops)}, headers=tenant.scim)
    assert r.status_code == 200, r.json
    return r


def _role(client, tenant, uid: str) -> str:
    r = client.get(f"/api/v1/users/{uid}", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json["role"]


def test_a_mapped_idp_role_gives_its_tenant_role_and_removing_it_gives_it_back(client, tenant):
    assert _map(client, tenant, {"faculty": "curator"}) == {"faculty": "curator"}
    uid = _create(client, tenant, "fay@example.edu", [{"value": " Faculty ", "primary": True}])
    assert _role(client, tenant, uid) == "curator"  # trimmed, and case doesn't count
    assert client.get(f"/api/v1/users/{uid}", headers=tenant.admin).json["role_source"] == "scim"
    _patch(client, tenant, uid, {"op": "remove", "path": 'roles[value eq " Faculty "]'})
    assert _role(client, tenant, uid) == "learner"
    _patch(client, tenant, uid, {"op": "add", "path": "roles", "value": [{"value": "FACULTY"}]})
    assert _role(client, tenant, uid) == "curator"
    _patch(client, tenant, uid, {"op": "remove", "path": "roles"})
    assert _role(client, tenant, uid) == "learner"


def test_the_most_privileged_mapped_role_wins_and_a_put_without_roles_takes_it_back(client, tenant):
    _map(client, tenant, {"Faculty": "curator", "Dean": "reporter", "IT": "admin", "Student": "learner"})
    uid = _create(client, tenant, "dee@example.edu", [{"value": "Student"}, {"value": "Dean"}, {"value": "Faculty"}])
    assert _role(client, tenant, uid) == "curator"  # curator before reporter, whatever the order sent
    _patch(client, tenant, uid, {"op": "replace", "path": "roles", "value": [{"value": "it"}, {"value": "Dean"}]})
    assert _role(client, tenant, uid) == "admin"  # the map says so: the admin's own choice
    body = {"schemas": [USER], "userName": "dee@example.edu"}
    assert client.put(f"/scim/v2/Users/{uid}", json=body, headers=tenant.scim).status_code == 200
    assert _role(client, tenant, uid) == "learner"


def test_a_role_an_admin_gave_by_hand_survives_the_identity_provider(client, tenant):
    _map(client, tenant, {"faculty": "curator", "it": "admin"})
    uid = _create(client, tenant, "hal@example.edu", [{"value": "Faculty"}])
    r = client.patch(f"/api/v1/users/{uid}", json={"role": "reporter"}, headers=tenant.admin)
    assert r.status_code == 200 and (r.json["role"], r.json["role_source"]) == ("reporter", "admin")
    _patch(client, tenant, uid, {"op": "remove", "path": "roles"})
    assert _role(client, tenant, uid) == "reporter"  # not taken away
    _patch(client, tenant, uid, {"op": "add", "path": "roles", "value": [{"value": "IT"}]})
    assert _role(client, tenant, uid) == "reporter"  # nor raised
    # Handed back to Learner by an admin, the person follows the map again.
    client.patch(f"/api/v1/users/{uid}", json={"role": "learner"}, headers=tenant.admin)
    _patch(client, tenant, uid, {"op": "replace", "path": "roles", "value": [{"value": "faculty"}]})
    assert _role(client, tenant, uid) == "curator"


def test_a_role_given_by_the_batch_action_or_a_users_file_is_given_by_hand_too(rt, client, tenant, run_jobs):
    _map(client, tenant, {"faculty": "curator"})
    ann = _create(client, tenant, "ann@example.edu", [{"value": "Faculty"}])
    bob = _create(client, tenant, "bob@example.edu", [{"value": "Faculty"}])
    r = batch(client, tenant, "change_role", user_ids=[int(ann)], params={"role": "reporter"})
    assert r.status_code == 202, r.json
    run_jobs()
    body = preview(client, tenant, "email,role\nbob@example.edu,Report viewer\n")
    assert not body["errors"], body["errors"]
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    for uid in (ann, bob):
        assert _role(client, tenant, uid) == "reporter"
        _patch(client, tenant, uid, {"op": "remove", "path": "roles"})
        assert _role(client, tenant, uid) == "reporter"


def test_an_unmapped_value_or_a_display_grants_nothing(client, tenant):
    _map(client, tenant, {"faculty": "curator"})
    uid = _create(client, tenant, "una@example.edu", [{"value": "Staff", "display": "faculty"}, {"value": "admin"}])
    assert _role(client, tenant, uid) == "learner"


def test_a_map_naming_an_unknown_role_or_a_bad_entry_is_a_400_naming_it(client, tenant):
    r = client.patch("/api/v1/settings", json={"scim_role_map": {"Faculty": "dean"}}, headers=tenant.admin)
    assert r.status_code == 400
    [message] = r.json["errors"]["scim_role_map"]
    assert "'Faculty'" in message and "no role 'dean'" in message and "learner, curator" in message
    r = client.patch("/api/v1/settings", json={"scim_role_map": ["Faculty"]}, headers=tenant.admin)
    assert r.status_code == 400 and "scim_role_map" in r.json["errors"]
    both = {"Faculty": "curator", " faculty": "reporter"}
    r = client.patch("/api/v1/settings", json={"scim_role_map": both}, headers=tenant.admin)
    assert r.status_code == 400 and "'Faculty'" in r.json["errors"]["scim_role_map"][0]
    assert client.get("/api/v1/settings", headers=tenant.admin).json["scim_role_map"] == {}


def test_a_custom_role_may_be_mapped_by_its_name_and_is_stored_by_its_key(client, tenant):
    r = client.post("/api/v1/roles", json={"label": "Auditor", "permissions": ["view_activity"]}, headers=tenant.admin)
    assert r.status_code == 201, r.json
    assert _map(client, tenant, {"Audit": "Auditor"}) == {"Audit": "auditor"}
    uid = _create(client, tenant, "aud@example.edu", [{"value": "audit"}])
    assert _role(client, tenant, uid) == "auditor"


def test_taking_an_entry_out_of_the_map_takes_its_role_away_at_the_next_change(client, tenant):
    _map(client, tenant, {"faculty": "curator"})
    uid = _create(client, tenant, "tia@example.edu", [{"value": "Faculty"}])
    assert _role(client, tenant, uid) == "curator"
    _map(client, tenant, {})
    assert _role(client, tenant, uid) == "curator"  # until the identity provider changes them
    _patch(client, tenant, uid, {"op": "replace", "path": "displayName", "value": "Tia"})
    assert _role(client, tenant, uid) == "learner"


def test_a_custom_role_a_map_gives_cant_be_deleted(client, tenant):
    client.post("/api/v1/roles", json={"label": "Auditor", "permissions": ["view_activity"]}, headers=tenant.admin)
    _map(client, tenant, {"Audit": "auditor"})
    r = client.delete("/api/v1/roles/auditor", headers=tenant.admin)
    assert r.status_code == 409 and "scim_role_map" in r.json["message"]
    _map(client, tenant, {})
    assert client.delete("/api/v1/roles/auditor", headers=tenant.admin).status_code == 204


def test_the_cli_sets_and_shows_the_role_maps_as_json(rt, tenant):
    def run(*args):
        return CliRunner().invoke(cli, list(args), obj=CliState(runtime=rt))

    r = run("tenants", "settings", tenant.slug, "--set", 'scim_role_map={"Faculty": "curator"}')
    assert r.exit_code == 0, r.output
    assert "Faculty -> curator" in r.output
    lti = '{"urn:lti:instrole:ims/lis/Faculty": "reporter"}'
    r = run("tenants", "settings", tenant.slug, "--set", f"lti_role_map={lti}", "--json")
    assert r.exit_code == 0, r.output
    assert '"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty": "reporter"' in r.output
    r = run("tenants", "settings", tenant.slug, "--set", 'lti_role_map={"Instructor": "reporter"}')
    assert r.exit_code != 0 and "'Instructor' is not a system or institution role" in r.output
    r = run("tenants", "settings", tenant.slug, "--set", "scim_role_map={oops")
    assert r.exit_code != 0 and "not a JSON object" in r.output
    assert run("tenants", "settings", tenant.slug, "--set", "scim_role_map=").exit_code == 0
