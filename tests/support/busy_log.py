"""A tenant whose logs hold events from every channel and every kind of actor (people, API and SCIM keys,
the LMS, jobs, rules, schedules, the command line, invitation links), about people and groups that still
exist and ones that were deleted: the data the log pages must show in words (issue 16)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from provisioning import activity
from provisioning.activity import Actor
from provisioning.lti import registrations as lti_registrations
from provisioning.models import CHANNELS
from provisioning.reports import runs as report_runs
from provisioning.rules.definition import RULE_ACTOR
from provisioning.rules.schedule import SCHEDULE_ACTOR
from provisioning.services import groups, memberships, roles, tenant_settings, users
from server.cli_common import cli_actor
from tests.support.personas import School, school, ui_actor

# What a reader must never see: channel and actor codes, object types with their ids, long digit runs.
CODES = (
    re.compile(r"\b(ui|api|scim|lti|job|rule|cli|join|token|user|group)[:-]\w"),
    re.compile(r"\b(user|group|operation|import|course|role|tenant|report_schedule|lti_registration) \d+"),
    re.compile(r"\b(lti_registration|report_schedule|notification_trigger|signin_link|batch_action)\b"),
    re.compile(r"\d{6,}"),
    re.compile(r'[{}]|\["'),  # JSON
    re.compile(r"\b\w+\.\w+_\w+\b"),  # action keys: group.member_added
)


@dataclass
class BusyLog:
    sch: School
    gone_user: int  # a person who acted and was acted on, then deleted
    gone_group: int  # a group that had a member, then deleted


def busy_log(rt, app, client, tenant, platform, run_jobs) -> BusyLog:
    """The school (tests/support/personas.py: LTI launches, the UI's people) and, besides, an event from each
    channel and kind of actor; returns the school and the ids of the deleted person and group."""
    sch = school(rt, app, client, tenant, platform)
    admin = ui_actor(sch.admin)
    api = Actor("token:HR sync", "api")
    scim = Actor("token:Entra ID", "scim")
    # The API and SCIM through their own edges: the actor names are the edges' own.
    made = client.post(
        "/api/v1/users",
        json={"email": "api@example.edu", "first_name": "Abe", "last_name": "Api"},
        headers=tenant.admin,
    )
    assert made.status_code == 201, made.json
    scim_user = client.post(
        "/scim/v2/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "sam@example.edu"},
        headers={**tenant.scim, "Content-Type": "application/scim+json"},
    )
    assert scim_user.status_code == 201, scim_user.get_data(as_text=True)
    gone = users.create_user(rt, tenant.id, {"email": "gone@example.edu", "given_name": "Gus"}, api)
    memberships.add_members(rt, tenant.id, sch.group.id, user_ids=[gone.id], actor=scim)
    memberships.add_members(rt, tenant.id, sch.group.id, user_ids=[sch.kim.id], actor=scim)
    activity_as_gone = Actor(f"ui:user-{gone.id}", "ui", gone.id)
    groups.update_group(rt, tenant.id, sch.group.id, {"description": "Seminar"}, activity_as_gone)
    old = groups.create_group(rt, tenant.id, {"name": "Old cohort"}, cli_actor())
    memberships.add_members(rt, tenant.id, old.id, user_ids=[sch.kim.id], actor=admin)
    # The UI: a message to a group (an operation, its emails, the job's start and end).
    assert sch.admin.session.post(f"/ui/groups/{sch.group.id}/message", {"subject": "Hi", "body": "x"}).status_code
    auto = groups.create_group(
        rt, tenant.id, {"name": "Everyone at example", "rule": 'emails.value ew "@example.edu"'}, admin
    )
    run_jobs()
    role = roles.create_role(rt, tenant.id, {"label": "Team coordinator", "permissions": ["view_users"]}, admin)
    users.update_user(rt, tenant.id, sch.kim.id, {"role": role.key}, admin)
    tenant_settings.update_settings(rt, tenant.id, {"sender_name": "Example School"}, admin)
    report_runs.create_schedule(rt, tenant.id, "group_progress", sch.group.id, "weekly", [], admin)
    registration = lti_registrations.list_registrations(rt, tenant.id)[0]
    lti_registrations.name_registration(rt, tenant.id, registration.id, "Canvas", admin)
    with rt.db.transaction() as s:
        # Actors the service's own code paths use (the schedules, a rule, an invitation link, LTI registration).
        activity.record(s, tenant.id, SCHEDULE_ACTOR, "group.rule_applied", "group", auto.id, {})
        activity.record(s, tenant.id, RULE_ACTOR, "group.member_added", "group", auto.id, {"user_id": sch.kim.id})
        activity.record(s, tenant.id, report_runs.SCHEDULE_ACTOR, "operation.report.requested", "group", sch.group.id)
        activity.record(
            s, tenant.id, Actor(f"user {sch.kim.id}", "join", sch.kim.id), "invitation.link.used", "invitation",
            f"{sch.kim.id}.1700000000.{sch.group.id}", {"user_id": sch.kim.id},
        )  # fmt: skip
        activity.record(
            s, tenant.id, Actor("lti dynamic registration", "lti"), "lti.registration_invite.used",
            "lti_registration", registration.id, {"issuer": "https://canvas.example"},
        )  # fmt: skip
        activity.record(
            s, tenant.id, Actor.system("lti"), "lti.deployment.recorded", "lti_registration", registration.id
        )
    groups.delete_group(rt, tenant.id, old.id, admin)
    users.delete_user(rt, tenant.id, gone.id, api)
    seen = {c for (c,) in _channels(rt, tenant.id)}
    assert seen >= set(CHANNELS), f"the busy log lacks channels {set(CHANNELS) - seen}"
    return BusyLog(sch, gone.id, old.id)


def _channels(rt, tenant_id: int):
    from sqlalchemy import select

    from provisioning.models import ActivityEvent

    with rt.db.read() as s:
        return s.execute(select(ActivityEvent.channel).where(ActivityEvent.tenant_id == tenant_id).distinct()).all()


class _Text(HTMLParser):
    """The text a reader meets: the page's text, and the attributes read aloud or shown (title, alt,
    aria-label, placeholder, value of buttons); never scripts, styles or other attributes."""

    SHOWN = ("title", "alt", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        self.parts.extend(v for k, v in attrs if k in self.SHOWN and v)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def codes_in(text: str) -> list[str]:
    """The codes and ids a reader would meet in ``text`` (with a little context each)."""
    found = []
    for pattern in CODES:
        for m in pattern.finditer(text):
            found.append(text[max(0, m.start() - 40) : m.end() + 40])
    return found
