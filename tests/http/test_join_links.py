"""Invitations carry a single-use, expiring join link hosted by the service (/join/<token>), from a
fresh tenant whose join_url was set through the admin API, over a real SMTP server."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from tests.support.api import batch, new_group
from tests.support.factories import make_user
from tests.support.servers import parts

LINK = re.compile(r"http://localhost/join/[A-Za-z0-9_.\-]+")


def invite(client, tenant, run_jobs, mail, user):
    """Send (or resend) ``user``'s invitation; the join link its email carries, and the email."""
    address = user.email
    before = len(mail.to(address))
    r = batch(client, tenant, "resend_invite", user_ids=[user.id])
    assert r.status_code == 202, r.json
    run_jobs()
    messages = mail.to(address)
    assert len(messages) == before + 1
    text, html = parts(messages[-1])
    [link] = LINK.findall(text)
    assert f'href="{link}"' in html
    return link, messages[-1]


def path(link: str) -> str:
    return link.removeprefix("http://localhost")


def invitation_status(client, tenant, rt, user_id):
    from provisioning.models import Invitation

    with rt.db.read() as s:
        return s.get(Invitation, user_id).status


@pytest.fixture
def fresh(client, tenant, mail):
    """A fresh tenant whose admin set join_url and sender_name through the API."""
    r = client.patch(
        "/api/v1/settings",
        json={"join_url": "https://lms.example.edu/login", "sender_name": "Acme Learning"},
        headers=tenant.admin,
    )
    assert r.status_code == 200
    return tenant


def test_an_invitation_from_a_fresh_tenant_links_to_the_service_and_the_link_works_once(
    client, fresh, rt, run_jobs, mail
):
    tenant = fresh
    group = new_group(client, tenant, "Math")
    r = client.post(
        f"/api/v1/groups/{group['id']}/members",
        json={"emails": ["nora@example.edu"], "invite": True},
        headers=tenant.admin,
    )
    assert r.status_code == 200, r.json
    run_jobs()
    [message] = mail.to("nora@example.edu")
    assert message["From"] == "Acme Learning <lms@acme.test>"
    text, _html = parts(message)
    [link] = LINK.findall(text)
    assert "lms.example.edu" not in text and "works once, for 7 days" in text

    opened = client.get(path(link))  # a mail scanner's fetch changes nothing
    assert opened.status_code == 200 and "Accept the invitation" in opened.get_data(as_text=True)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    user_id = client.get("/api/v1/users", headers=tenant.admin).json["items"][0]["id"]
    assert invitation_status(client, tenant, rt, user_id) == "pending"

    used = client.post(path(link))
    assert used.status_code == 303 and used.headers["Location"] == "https://lms.example.edu/login"
    assert invitation_status(client, tenant, rt, user_id) == "accepted"

    again = client.post(path(link))
    assert again.status_code == 410 and "already accepted" in again.get_data(as_text=True)
    assert client.get(path(link)).status_code == 410
    events = client.get("/api/v1/activity?action=invitation.link.used", headers=tenant.admin).json
    assert events["total"] == 1 and events["items"][0]["channel"] == "join"


def test_resending_makes_a_new_link_and_the_old_one_stops_working(client, fresh, rt, run_jobs, mail):
    newbie = make_user(rt, fresh.id, "newbie", status="invited")
    first, _ = invite(client, fresh, run_jobs, mail, newbie)
    second, _ = invite(client, fresh, run_jobs, mail, newbie)
    assert first != second
    old = client.post(path(first))
    assert old.status_code == 410 and "newer invitation" in old.get_data(as_text=True)
    assert client.post(path(second)).status_code == 303


def test_an_expired_link_shows_a_page_saying_so(client, fresh, rt, run_jobs, mail, monkeypatch):
    late = make_user(rt, fresh.id, "late", status="invited")
    eight_days_ago = int(time.time()) - 8 * 86400
    with monkeypatch.context() as m:  # the link is signed as if sent eight days ago
        m.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        link, _ = invite(client, fresh, run_jobs, mail, late)
    for response in (client.get(path(link)), client.post(path(link))):
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_a_forged_or_truncated_link_is_a_clear_404_never_a_5xx(client, fresh, rt, run_jobs, mail):
    ann = make_user(rt, fresh.id, "ann", status="invited")
    link, _ = invite(client, fresh, run_jobs, mail, ann)
    for bad in (path(link)[:-3], "/join/nonsense", "/join/" + "x" * 5000, path(link) + "x"):
        for response in (client.get(bad), client.post(bad)):
            assert response.status_code == 404, bad
            assert "does not work" in response.get_data(as_text=True)


def test_without_a_join_url_the_accepted_person_is_told_to_sign_in_from_their_lms(client, fresh, rt, run_jobs, mail):
    ann = make_user(rt, fresh.id, "ann", status="invited")
    link, _ = invite(client, fresh, run_jobs, mail, ann)
    client.patch("/api/v1/settings", json={"join_url": None}, headers=fresh.admin)
    page = client.post(path(link))
    assert page.status_code == 200
    assert "You have joined Acme University" in page.get_data(as_text=True) and "LMS" in page.get_data(as_text=True)


def test_the_invitation_is_in_the_users_language_or_else_the_tenants(client, fresh, rt, run_jobs, mail):
    hans = make_user(rt, fresh.id, "hans", status="invited", language="de-AT")
    sofia = make_user(rt, fresh.id, "sofia", status="invited")
    client.patch("/api/v1/settings", json={"default_language": "es"}, headers=fresh.admin)
    _, german = invite(client, fresh, run_jobs, mail, hans)
    _, spanish = invite(client, fresh, run_jobs, mail, sofia)
    assert german["Subject"] == "Sie sind eingeladen, Acme University beizutreten"
    assert "Hier beitreten" in parts(german)[0] and '<html lang="de">' in parts(german)[1]
    assert spanish["Subject"] == "Le invitamos a unirse a Acme University"


def test_the_join_page_speaks_the_invited_persons_language_on_the_ui_layout(client, fresh, rt, run_jobs, mail):
    hans = make_user(rt, fresh.id, "hans2", status="invited", language="de-AT")
    sofia = make_user(rt, fresh.id, "sofia2", status="invited")
    client.patch("/api/v1/settings", json={"default_language": "es"}, headers=fresh.admin)
    german_link, _ = invite(client, fresh, run_jobs, mail, hans)
    spanish_link, _ = invite(client, fresh, run_jobs, mail, sofia)
    page = client.get(path(german_link))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="de">' in body
    assert "Acme University beitreten" in body and "Einladung annehmen" in body
    assert (
        "/ui/static/vendor/bootstrap/bootstrap.min.css" in body
        and "style-src 'self'" in page.headers["Content-Security-Policy"]
    )
    spanish = client.get(path(spanish_link)).get_data(as_text=True)
    assert '<html lang="es">' in spanish and "Aceptar la invitación" in spanish
    assert client.post(path(spanish_link)).status_code == 303
    again = client.post(path(spanish_link))
    assert again.status_code == 410 and "Esta invitación ya se aceptó" in again.get_data(as_text=True)
