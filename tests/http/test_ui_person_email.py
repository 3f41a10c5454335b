"""Correcting a person's email on the person form (issue 16: the batch-actions article's "Resend invite" to an
address that was mistyped): admins only, checked as every channel checks an address, read-only when the
identity provider owns it, and a resent invitation goes to the corrected address."""

from __future__ import annotations

import re

from provisioning.services import groups, tenant_settings, users
from tests.http.test_join_links import LINK, path
from tests.support.api import batch
from tests.support.personas import SETUP, school
from tests.support.servers import parts


def _invite(rt, tenant, admin, address: str) -> int:
    """The admin adds ``address`` on a group page: an unknown address becomes an invited person."""
    tenant_settings.update_settings(rt, tenant.id, {"join_url": "https://lms.example.edu/join"}, SETUP)
    team = groups.create_group(rt, tenant.id, {"name": "Team Alpha"}, SETUP)
    added = admin.post(f"/ui/groups/{team.id}/members", {"email": address})
    assert added.status_code == 302, added.get_data(as_text=True)
    return users.list_users(rt, tenant.id, q=address).items[0].id


def _invitations(client, tenant) -> list[str]:
    got = client.get("/api/v1/emails?kind=invitation", headers=tenant.admin)
    assert got.status_code == 200
    return [e["to"] for e in got.get_json()["items"]]


def test_an_admin_corrects_a_mistyped_email_and_the_resent_invitation_goes_to_it(
    rt, app, client, tenant, platform, run_jobs
):
    sch = school(rt, app, client, tenant, platform)
    admin = sch.admin.session
    ivo = _invite(rt, tenant, admin, "ivo@exmaple.edu")
    assert _invitations(client, tenant) == ["ivo@exmaple.edu"]
    form = admin.get(f"/ui/people/{ivo}/edit").get_data(as_text=True)
    assert re.search(
        r'<input type="email" class="form-control" id="f-email" name="email" value="ivo@exmaple.edu"', form
    )
    saved = admin.post(f"/ui/people/{ivo}/edit", {"email": " ivo@example.edu "})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    person = users.get_user(rt, tenant.id, ivo)
    # The username had defaulted to the mistyped address: it follows, so the typo is gone everywhere.
    assert (person.email, person.username, person.status) == ("ivo@example.edu", "ivo@example.edu", "invited")
    assert "ivo@example.edu" in admin.get(f"/ui/people/{ivo}", saved=1).get_data(as_text=True)
    assert batch(client, tenant, "resend_invite", user_ids=[ivo]).status_code == 202
    run_jobs()
    assert sorted(_invitations(client, tenant)) == ["ivo@example.edu", "ivo@exmaple.edu"]


def test_a_corrected_email_keeps_a_username_of_its_own(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    una = users.create_user(rt, tenant.id, {"username": "una", "email": "una@exmaple.edu"}, SETUP)
    assert sch.admin.session.post(f"/ui/people/{una.id}/edit", {"email": "una@example.edu"}).status_code == 302
    una = users.get_user(rt, tenant.id, una.id)
    assert (una.username, una.email, una.email_key) == ("una", "una@example.edu", "una@example.edu")


def test_a_taken_address_is_a_409_beside_the_field_naming_the_clash(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    ivo = users.create_user(rt, tenant.id, {"email": "ivo@exmaple.edu"}, SETUP)
    # Kim's address, typed in another case and in full-width letters: the same identity key.
    for typed in ("KIM@example.edu", "ｋｉｍ@example.edu"):
        refused = sch.admin.session.post(f"/ui/people/{ivo.id}/edit", {"email": typed})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 409, page
        assert f'id="email-error">{typed} is already the email or username of another person in this organisation.' in (
            page
        )
        assert '<a href="#f-email">Email</a>' in page and f'value="{typed}"' in page
    assert users.get_user(rt, tenant.id, ivo.id).email == "ivo@exmaple.edu"


def test_another_tenants_address_is_no_clash(rt, app, client, tenant, platform, other_tenant):
    sch = school(rt, app, client, tenant, platform)
    users.create_user(rt, other_tenant.id, {"email": "eve@example.edu"}, SETUP)
    ivo = users.create_user(rt, tenant.id, {"email": "ivo@exmaple.edu"}, SETUP)
    assert sch.admin.session.post(f"/ui/people/{ivo.id}/edit", {"email": "eve@example.edu"}).status_code == 302
    assert users.get_user(rt, tenant.id, ivo.id).email == "eve@example.edu"


def test_bad_addresses_are_refused_beside_the_field_and_nothing_is_saved(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    admin = sch.admin.session
    cases = {
        "": "Enter an email address: invitations and messages go to it.",
        "kim.example.edu": "kim.example.edu is not an email address (like name@example.org).",
        "kim@exa mple.edu": "kim@exa mple.edu is not an email address",
        "k" * 310 + "@example.edu": "Email is too long: at most 320 characters (this one has 322).",
        "kim\u200b@example.edu": "Must not contain invisible or control characters; found U+200B (ZERO WIDTH SPACE)",
        "kim\x00@example.edu": "The text contains a NUL character (U+0000) at position 4.",
    }
    for typed, words in cases.items():
        refused = admin.post(f"/ui/people/{sch.kim.id}/edit", {"email": typed, "department": "Physics"})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400, (typed, page)
        assert re.search(r'id="email-error">' + re.escape(words), page), (typed, page)
        assert 'aria-invalid="true" aria-describedby="email-hint email-error"' in page
        assert 'value="Physics"' in page  # what was typed is kept
    kim = users.get_user(rt, tenant.id, sch.kim.id)
    assert (kim.email, kim.department) == ("kim@example.edu", None)


def test_a_manager_sees_the_email_but_cannot_change_it(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    tia = sch.manager_own.session
    form = tia.get(f"/ui/people/{sch.kim.id}/edit").get_data(as_text=True)
    assert re.search(r'id="f-email" name="email" value="kim@example.edu"[^>]* disabled', form)
    assert "Only an administrator can change an email address." in form
    # Sent by hand it is refused on the server; the unchanged address is fine.
    refused = tia.post(f"/ui/people/{sch.kim.id}/edit", {"email": "kim@elsewhere.edu"})
    assert refused.status_code == 403 and "change this person&#39;s email" in refused.get_data(as_text=True)
    assert tia.post(f"/ui/people/{sch.kim.id}/edit", {"email": "kim@example.edu", "department": "X"}).status_code == 302
    assert users.get_user(rt, tenant.id, sch.kim.id).email == "kim@example.edu"


def test_an_email_the_identity_provider_sent_is_read_only(rt, app, client, tenant, platform):
    """A SCIM client's ``emails`` are kept as sent and read back by it: the address is changed at the IdP."""
    sch = school(rt, app, client, tenant, platform)
    created = client.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "sam",
            "emails": [{"value": "sam@example.edu", "primary": True}],
        },
        headers=tenant.scim,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    sam = users.list_users(rt, tenant.id, q="sam@example.edu").items[0]
    admin = sch.admin.session
    form = admin.get(f"/ui/people/{sam.id}/edit").get_data(as_text=True)
    assert re.search(r'id="f-email" name="email" value="sam@example.edu"[^>]* disabled', form)
    assert "Your identity provider manages this address (SCIM)" in form
    refused = admin.post(f"/ui/people/{sam.id}/edit", {"email": "sam@other.edu"})
    assert refused.status_code == 403
    assert users.get_user(rt, tenant.id, sam.id).email == "sam@example.edu"


def test_the_link_mailed_to_the_mistyped_address_stops_working_once_it_is_corrected(
    rt, app, client, tenant, platform, run_jobs, mail
):
    """Whoever reads the mistyped mailbox can't join as the person; the resent link at the new address works."""
    sch = school(rt, app, client, tenant, platform)
    ivo = _invite(rt, tenant, sch.admin.session, "ivo@exmaple.edu")
    run_jobs()
    [old] = LINK.findall(parts(mail.to("ivo@exmaple.edu")[-1])[0])
    assert client.get(path(old)).status_code == 200
    assert sch.admin.session.post(f"/ui/people/{ivo}/edit", {"email": "ivo@example.edu"}).status_code == 302
    superseded = client.get(path(old))
    assert superseded.status_code == 410 and "newer invitation" in superseded.get_data(as_text=True)
    assert batch(client, tenant, "resend_invite", user_ids=[ivo]).status_code == 202
    run_jobs()
    [new] = LINK.findall(parts(mail.to("ivo@example.edu")[-1])[0])
    assert client.get(path(new)).status_code == 200
    assert len(mail.to("ivo@exmaple.edu")) == 1
