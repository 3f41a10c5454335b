"""Messages to groups, notifications for users who have not joined yet, and invitations by email."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from provisioning.errors import InvalidInput
from provisioning.models import Invitation, Tenant, User
from provisioning.services import groups, invitations, notifications
from provisioning.services.memberships import add_members, list_members
from tests.support.api import batch
from tests.support.factories import ADMIN, make_user, operation
from tests.support.servers import parts


def _join_url(rt, tenant_id, url="https://lms.example.edu/join"):
    with rt.db.transaction() as s:
        s.get(Tenant, tenant_id).settings = {"join_url": url, "password_reset_url": "https://idp.example.edu/reset"}


def test_a_group_message_emails_every_member_who_can_receive_it(rt, client, tenant, run_jobs, mail):
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob", status="invited")
    gone = make_user(rt, tenant.id, "gone", status="deactivated")
    outsider = make_user(rt, tenant.id, "outsider")
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    add_members(rt, tenant.id, team.id, user_ids=[ann.id, bob.id, gone.id], actor=ADMIN)
    r = client.post(
        f"/api/v1/groups/{team.id}/messages",
        json={"subject": "Kick-off <Monday>", "body": "See you at 9.\n\nBring <coffee> & cake."},
        headers=tenant.admin,
    )
    assert r.status_code == 202, r.json
    run_jobs()
    op = operation(rt, tenant.id, r.json["operation_id"])
    assert op.type == "group_message" and op.status == "succeeded"
    assert (op.result["changed"], op.result["deactivated"]) == (2, 1)
    assert sorted(m["To"] for m in mail.received) == ["ann@example.edu", "bob@example.edu"]
    text, html = parts(mail.to("ann@example.edu")[0])
    assert mail.to("ann@example.edu")[0]["Subject"] == "Kick-off <Monday>"
    assert "Bring <coffee> & cake." in text
    assert "Bring &lt;coffee&gt; &amp; cake." in html and "<coffee>" not in html
    assert outsider.email not in [m["To"] for m in mail.received]


def test_a_message_needs_a_subject_and_a_body_and_a_group_of_this_tenant(rt, client, tenant, other_tenant):
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    r = client.post(f"/api/v1/groups/{team.id}/messages", json={"subject": ""}, headers=tenant.admin)
    assert r.status_code == 400 and {"subject", "body"} <= set(r.json["errors"])
    theirs = groups.create_group(rt, other_tenant.id, {"name": "Theirs"}, ADMIN)
    r = client.post(f"/api/v1/groups/{theirs.id}/messages", json={"subject": "a", "body": "b"}, headers=tenant.admin)
    assert r.status_code == 404


def test_a_notification_waits_for_users_who_have_not_joined_yet(rt, client, tenant, run_jobs, mail):
    ann = make_user(rt, tenant.id, "ann")
    newbie = make_user(rt, tenant.id, "newbie", status="invited")
    r = batch(client, tenant, "notify", user_ids=[ann.id, newbie.id], params={"subject": "Policy", "body": "Read it"})
    run_jobs()
    assert operation(rt, tenant.id, r.json["operation_id"]).result["kept_until_joined"] == 1
    assert [m["To"] for m in mail.received] == ["ann@example.edu"]
    mine = client.get(f"/api/v1/users/{ann.id}/notifications", headers=tenant.admin).json["items"]
    kept = client.get(f"/api/v1/users/{newbie.id}/notifications", headers=tenant.admin).json["items"]
    assert mine[0]["subject"] == "Policy" and mine[0]["delivered_at"] is not None
    assert kept[0]["subject"] == "Policy" and kept[0]["delivered_at"] is None
    # The user arrives (first LTI launch or activation): what was kept is delivered and emailed.
    with rt.db.transaction() as s:
        user = s.get(User, newbie.id)
        user.status = "active"
        assert notifications.deliver_pending(s, rt, user) == 1
        assert notifications.deliver_pending(s, rt, user) == 0
    run_jobs()
    assert sorted(m["To"] for m in mail.received) == ["ann@example.edu", "newbie@example.edu"]
    kept = client.get(f"/api/v1/users/{newbie.id}/notifications", headers=tenant.admin).json["items"]
    assert kept[0]["delivered_at"] is not None


def test_a_kept_notification_is_delivered_when_an_admin_activates_the_invited_user(rt, client, tenant, run_jobs, mail):
    newbie = make_user(rt, tenant.id, "newbie", status="invited")
    batch(client, tenant, "notify", user_ids=[newbie.id], params={"subject": "Welcome", "body": "Start here"})
    run_jobs()
    assert mail.received == []
    r = client.patch(f"/api/v1/users/{newbie.id}", json={"status": "active"}, headers=tenant.admin)
    assert r.status_code == 200
    run_jobs()
    assert [(m["To"], m["Subject"]) for m in mail.received] == [("newbie@example.edu", "Welcome")]
    kept = client.get(f"/api/v1/users/{newbie.id}/notifications", headers=tenant.admin).json["items"]
    assert kept[0]["delivered_at"] is not None
    client.patch(f"/api/v1/users/{newbie.id}", json={"title": "Trainee"}, headers=tenant.admin)
    run_jobs()
    assert len(mail.received) == 1  # delivered once, not on every later change


def test_password_reset_emails_link_to_the_identity_providers_reset_page(rt, client, tenant, run_jobs, mail):
    _join_url(rt, tenant.id)
    ann = make_user(rt, tenant.id, "ann")
    nomail = make_user(rt, tenant.id, "nomail", email=None)
    r = batch(client, tenant, "password_reset", user_ids=[ann.id, nomail.id])
    run_jobs()
    [message] = mail.received
    text, html = parts(message)
    assert "https://idp.example.edu/reset" in text and 'href="https://idp.example.edu/reset"' in html
    op = operation(rt, tenant.id, r.json["operation_id"])
    assert op.errors == [{"user_id": nomail.id, "message": "The user has no email address."}]


def test_adding_one_unknown_email_invites_a_new_user_with_the_join_link(rt, tenant, run_jobs, mail):
    _join_url(rt, tenant.id, "https://lms.example.edu/acme")
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    change = add_members(rt, tenant.id, team.id, emails=["New.Person@example.edu"], actor=ADMIN)
    assert change.added_count == 1
    [(user, _membership)] = list_members(rt, tenant.id, team.id).items
    assert (user.email, user.status) == ("New.Person@example.edu", "invited")
    run_jobs()
    [message] = mail.received
    # The email carries the service's single-use join link, which leads on to the join_url once used.
    assert message["To"] == "New.Person@example.edu" and "http://localhost/join/" in parts(message)[0]
    with rt.db.transaction() as s:  # accept_invitation writes
        assert s.scalar(select(Invitation.status).where(Invitation.user_id == user.id)) == "pending"
        assert invitations.accept_invitation(s, tenant.id, user.id)


def test_several_unknown_emails_are_refused_unless_the_request_asks_to_invite(rt, tenant, run_jobs, mail):
    _join_url(rt, tenant.id)
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    emails = ["one@example.edu", "two@example.edu"]
    with pytest.raises(InvalidInput) as refused:
        add_members(rt, tenant.id, team.id, emails=emails, actor=ADMIN)
    assert refused.value.details["emails"] == [
        "No user with email 'one@example.edu'.",
        "No user with email 'two@example.edu'.",
    ]
    assert add_members(rt, tenant.id, team.id, emails=emails, actor=ADMIN, invite=True).added_count == 2
    run_jobs()
    assert sorted(m["To"] for m in mail.received) == emails


def test_an_unknown_email_cannot_be_invited_without_a_join_link(rt, tenant):
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    with pytest.raises(InvalidInput) as refused:
        add_members(rt, tenant.id, team.id, emails=["new@example.edu"], actor=ADMIN)
    assert "join_url" in refused.value.details["emails"][0]
    assert list_members(rt, tenant.id, team.id).total == 0


def test_adding_one_unknown_email_through_the_members_api_invites_them(rt, client, tenant, run_jobs, mail):
    _join_url(rt, tenant.id)
    team = groups.create_group(rt, tenant.id, {"name": "Team"}, ADMIN)
    r = client.post(f"/api/v1/groups/{team.id}/members", json={"emails": ["new@example.edu"]}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    run_jobs()
    assert [m["To"] for m in mail.received] == ["new@example.edu"]
