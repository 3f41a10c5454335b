"""The admins' settings page (/ui/settings): every value checked by the settings service, errors beside their
fields, seats read-only, LMS platforms listed and revoked after a confirmation; admins only, on every request."""

from __future__ import annotations

from provisioning.lti import registrations
from provisioning.services import tenant_settings
from tests.support.factories import make_platform
from tests.support.personas import school

FULL_FORM = {
    "join_url": "https://lms.example.edu/login",
    "password_reset_url": "https://lms.example.edu/reset",
    "sender_name": "Example School",
    "default_language": "es",
    "manager_permissions_sent": "1",
    "manager_permissions": ["view_users", "message"],
    "admin_roles_sent": "1",
    "admin_roles": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
    "admin_roles_other": "",
}


def test_an_admin_sets_every_setting_from_the_page(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get("/ui/settings").get_data(as_text=True)
    for label in ("Invitation link", "Password reset link", "Sender name", "Default language", "Seats in use"):
        assert label in page
    assert 'id="perm-create_groups"' in page and "Create new groups for their course." in page
    saved = sch.admin.session.post("/ui/settings", FULL_FORM)
    assert saved.status_code == 302 and "saved=1" in saved.headers["Location"]
    got = tenant_settings.get_settings(rt, tenant.id)
    assert got["join_url"] == "https://lms.example.edu/login"
    assert got["password_reset_url"] == "https://lms.example.edu/reset"
    assert (got["sender_name"], got["default_language"]) == ("Example School", "es")
    assert got["manager_permissions"] == ["view_users", "message"]
    assert got["admin_roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]
    # The tenant's default language is now Spanish, and the admin has none of their own: the page says it in Spanish.
    assert "Se ha guardado la configuración." in sch.admin.session.get("/ui/settings", saved=1).get_data(as_text=True)
    # Emptying a link unsets it.
    sch.admin.session.post("/ui/settings", {**FULL_FORM, "sender_name": ""})
    assert tenant_settings.get_settings(rt, tenant.id)["sender_name"] is None


def test_bad_values_are_refused_beside_their_fields_and_nothing_is_saved(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    response = sch.admin.session.post(
        "/ui/settings",
        {**FULL_FORM, "join_url": "lms.example.edu", "admin_roles_other": "Instructor"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="join_url-error">Must be an http(s) URL such as https://lms.example.edu/login.' in page
    assert 'id="admin_roles-error">' in page and "course roles never make a tenant admin" in page
    assert "join_url:" not in page  # the field is named by its label, not its key
    assert 'value="lms.example.edu"' in page  # what was typed is kept
    assert tenant_settings.get_settings(rt, tenant.id)["join_url"] is None


def test_seats_are_read_only(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get("/ui/settings").get_data(as_text=True)
    assert 'id="seats-limit">No limit<' in page and 'name="seats"' not in page
    sch.admin.session.post("/ui/settings", {"seats": "5"})
    assert tenant_settings.get_settings(rt, tenant.id)["seats"]["limit"] is None


def test_an_admin_revokes_a_platform_after_a_confirmation(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    spare = make_platform(rt, tenant.id, "spare.example.edu", name="Spare Moodle")
    page = sch.admin.session.get("/ui/settings").get_data(as_text=True)
    assert "Spare Moodle" in page and "https://spare.example.edu" in page
    confirm = sch.admin.session.get(f"/ui/settings/platforms/{spare.id}/revoke").get_data(as_text=True)
    assert "Yes, revoke Spare Moodle" in confirm
    done = sch.admin.session.post(f"/ui/settings/platforms/{spare.id}/revoke")
    assert done.status_code == 302
    assert [r.revoked_at is not None for r in registrations.list_registrations(rt, tenant.id, include_revoked=True)][-1]
    assert done.headers["Location"].endswith(f"revoked={spare.id}")
    after = sch.admin.session.get("/ui/settings", revoked=str(spare.id)).get_data(as_text=True)
    assert "Spare Moodle was revoked" in after and "revoked on" in after
    # The notice names only a platform of the tenant's that the link names.
    assert "was revoked" not in sch.admin.session.get("/ui/settings", revoked="Evil").get_data(as_text=True)


def test_only_admins_reach_the_settings(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    for persona in (sch.learner, sch.manager_other, sch.manager_own):
        assert persona.session.get("/ui/settings").status_code == 403
        assert persona.session.post("/ui/settings", FULL_FORM).status_code == 403
        assert "/ui/settings" not in persona.session.get("/ui/me").get_data(as_text=True)
    assert tenant_settings.get_settings(rt, tenant.id)["join_url"] is None
    assert 'href="/ui/settings"' in sch.admin.session.get("/ui/groups").get_data(as_text=True)


def _map_form(key: str, rows: list[tuple[str, str]], **extra) -> dict:
    form = {f"{key}_sent": "1", f"{key}-rows": str(len(rows))}
    for i, (value, role) in enumerate(rows):
        form[f"{key}-{i}-value"], form[f"{key}-{i}-role"] = value, role
    return {**form, **extra}


def test_an_admin_edits_the_role_maps_row_by_row_with_errors_beside_the_row(rt, owner, tenant):
    page = owner.get("/ui/settings").get_data(as_text=True)
    assert "Roles from the identity provider" in page and 'id="scim_role_map-0-value"' in page
    assert '<option value="reporter">Report viewer</option>' in page
    # "Add a row" shows one more row and saves nothing.
    added = owner.post(
        "/ui/settings", _map_form("scim_role_map", [("Faculty", "curator"), ("", "")], add_row="scim_role_map")
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'id="scim_role_map-2-value"' in html and 'value="Faculty"' in html
    assert tenant_settings.get_settings(rt, tenant.id)["scim_role_map"] == {}
    saved = owner.post(
        "/ui/settings", _map_form("scim_role_map", [("Faculty", "curator"), ("Dean", "reporter"), ("", "")])
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert tenant_settings.get_settings(rt, tenant.id)["scim_role_map"] == {"Faculty": "curator", "Dean": "reporter"}
    html = owner.get("/ui/settings").get_data(as_text=True)
    assert 'id="scim_role_map-0-value" name="scim_role_map-0-value" value="Dean"' in html  # rows by name
    # A row naming a role the tenant doesn't have, or an LMS course role: the message is beside that row.
    bad = owner.post("/ui/settings", _map_form("scim_role_map", [("Faculty", "curator"), ("Dean", "dean")]))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="scim_role_map-1-error">' in html and "there is no role &#39;dean&#39; in this tenant" in html
    assert 'href="#f-scim_role_map">Roles from the identity provider</a>' in html  # the summary links to it
    bad = owner.post("/ui/settings", _map_form("lti_role_map", [("", ""), ("Instructor", "reporter")]))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="lti_role_map-1-error">' in html and "course roles grant rights in their course only" in html
    assert tenant_settings.get_settings(rt, tenant.id)["scim_role_map"] == {"Faculty": "curator", "Dean": "reporter"}
    # "Remove" takes a row away; an LMS role in its v1 form is stored as its LIS v2 address.
    removed = owner.post(
        "/ui/settings",
        {
            **_map_form(
                "scim_role_map", [("Faculty", "curator"), ("Dean", "reporter")], **{"scim_role_map-0-remove": "1"}
            ),
            **_map_form("lti_role_map", [("urn:lti:instrole:ims/lis/Faculty", "reporter")]),
        },
    )
    assert removed.status_code == 302
    got = tenant_settings.get_settings(rt, tenant.id)
    assert got["scim_role_map"] == {"Dean": "reporter"}
    assert got["lti_role_map"] == {"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty": "reporter"}
