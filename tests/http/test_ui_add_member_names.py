"""Issue 16, the group-managers article: "Add Member: provide the user's details and an invitation email
will be sent".  The group page's add form takes a first and last name beside the email: they name a
person the address creates (invited), and never change an existing person."""

from __future__ import annotations

import pytest

from provisioning.models import Tenant
from provisioning.services import users
from tests.support.personas import SETUP, school


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    with rt.db.transaction() as s:
        found = s.get(Tenant, tenant.id)
        found.settings = {**(found.settings or {}), "join_url": "https://lms.example.edu/join"}
    return school(rt, app, client, tenant, platform)


def _person(client, tenant, email: str) -> dict:
    r = client.get("/api/v1/users", query_string={"q": email}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    [found] = [u for u in r.json["items"] if u["email"] == email]
    return found


def _add(persona, group_id: int, email: str, first: str = "", last: str = ""):
    return persona.session.post(
        f"/ui/groups/{group_id}/members", {"email": email, "first_name": first, "last_name": last}
    )


def test_the_add_form_offers_first_and_last_name(sch):
    page = sch.admin.session.get(f"/ui/groups/{sch.group.id}").get_data(as_text=True)
    assert 'name="first_name"' in page and 'name="last_name"' in page
    assert '<label for="add-first-name" class="form-label">First name (optional)</label>' in page


@pytest.mark.parametrize("who", ["admin", "manager_own"])
def test_a_new_person_added_by_email_gets_the_names_typed(client, tenant, sch, who):
    response = _add(sch.persona(who), sch.group.id, "nia@example.edu", "  Nia ", "Okafor Bello")
    assert response.status_code == 302
    nia = _person(client, tenant, "nia@example.edu")
    assert (nia["first_name"], nia["last_name"], nia["status"]) == ("Nia", "Okafor Bello", "invited")


@pytest.mark.parametrize("who", ["admin", "manager_own"])
def test_an_existing_persons_names_are_not_changed(client, tenant, rt, sch, who):
    users.create_user(rt, tenant.id, {"email": "ola@example.edu", "given_name": "Ola", "family_name": "Berg"}, SETUP)
    assert _add(sch.persona(who), sch.group.id, "ola@example.edu", "Someone", "Else").status_code == 302
    assert _add(sch.persona(who), sch.group.id, sch.kim.email, "Not", "Kim").status_code == 302
    ola, kim = _person(client, tenant, "ola@example.edu"), _person(client, tenant, sch.kim.email)
    assert (ola["first_name"], ola["last_name"]) == ("Ola", "Berg")
    assert (kim["first_name"], kim["last_name"]) == ("Kim", None)


def test_names_are_optional(client, tenant, sch):
    assert _add(sch.admin, sch.group.id, "noname@example.edu").status_code == 302
    found = _person(client, tenant, "noname@example.edu")
    assert found["first_name"] is None and found["last_name"] is None


def test_a_name_too_long_is_refused_naming_the_field_and_nobody_is_created(client, tenant, sch):
    response = _add(sch.manager_own, sch.group.id, "long@example.edu", "A" * 201, "Short")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "First name" in text and "At most 200 characters" in text
    r = client.get("/api/v1/users", query_string={"q": "long@example.edu"}, headers=tenant.admin)
    assert r.json["items"] == []
