"""The people the permission model (docs/PERMISSIONS.md) names, signed in by real LTI 1.3 launches.

A platform we drive (tests/support/lti_platform.py) launches into two courses: the course's
instructor ("manager, this course"), a learner of the course, the instructor of another course
("manager, other course") and an institution administrator; and two learners of the other course whose
tenant role an admin set to Curator and to Report viewer (provisioning/tenant_roles.py).  The course has a hand-edited group
linked to it, with the learner and a classmate as members; the other course has its own group.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from provisioning import signed_tokens
from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.imports import preview
from provisioning.lti import launch as lti_launch
from provisioning.models import Course, Group, Operation, User
from provisioning.models.imports import Import
from provisioning.services import groups, memberships, users
from tests.support.lti_platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, launch, register_platform
from tests.support.signin import UiSession

PERMISSIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "PERMISSIONS.md"
# The columns of the table in docs/PERMISSIONS.md, in order, and the personas that stand for them.
PERSONAS = ("learner", "manager_other", "manager_own", "admin", "curator", "reporter")
SETUP = Actor("test", "api")


@dataclass
class Persona:
    session: UiSession
    user_id: int
    email: str


@dataclass
class School:
    learner: Persona
    manager_other: Persona
    manager_own: Persona
    admin: Persona
    curator: Persona
    reporter: Persona
    course: Course
    other_course: Course
    group: Group  # the course's hand-edited group: the learner and Kim are members
    other_group: Group  # the other course's group
    kim: User  # the learner's classmate

    def persona(self, name: str) -> Persona:
        return getattr(self, name)


def launched(client, app, platform, *, sub: str, email: str, roles: list[str], context: str) -> Persona:
    """Launch from the platform into ``context``; the landing page's launch token signs the persona in."""
    platform.context_id = context
    client = app.test_client()  # a browser of their own: a second person in one browser is asked to switch
    landing = launch(client, platform, sub=sub, email=email, roles=roles, name=sub.title())
    assert landing.status_code == 200, landing.get_data(as_text=True)
    token = re.search(r'name="launch-token" content="([^"]+)"', landing.get_data(as_text=True)).group(1)
    claims = signed_tokens.read_launch_token(app.config["SECRET_KEY"], token)
    assert claims is not None
    return Persona(UiSession(client, token), int(claims["u"]), email)


def school(rt, app, client, tenant, platform) -> School:
    register_platform(rt, tenant.id, platform)
    own = launched(client, app, platform, sub="tia", email="tia@example.edu", roles=[INSTRUCTOR], context="course-a")
    learner = launched(client, app, platform, sub="lou", email="lou@example.edu", roles=[LEARNER], context="course-a")
    other = launched(client, app, platform, sub="tom", email="tom@example.edu", roles=[INSTRUCTOR], context="course-b")
    admin = launched(
        client, app, platform, sub="ada", email="ada@example.edu", roles=[ADMINISTRATOR], context="course-a"
    )
    curator = with_role(rt, app, client, platform, tenant.id, sub="cora", email="cora@example.edu", role="curator")
    reporter = with_role(rt, app, client, platform, tenant.id, sub="remy", email="remy@example.edu", role="reporter")
    with rt.db.read() as s:
        course = s.scalar(select(Course).where(Course.tenant_id == tenant.id, Course.external_id == "course-a"))
        other_course = s.scalar(select(Course).where(Course.tenant_id == tenant.id, Course.external_id == "course-b"))
    kim = users.create_user(rt, tenant.id, {"email": "kim@example.edu", "given_name": "Kim"}, SETUP)
    group = groups.create_group(rt, tenant.id, {"name": "Course A seminar"}, SETUP)
    other_group = groups.create_group(rt, tenant.id, {"name": "Course B seminar"}, SETUP)
    lti_launch.add_course_group(rt, tenant.id, course.id, group.id)
    lti_launch.add_course_group(rt, tenant.id, other_course.id, other_group.id)
    memberships.add_members(rt, tenant.id, group.id, user_ids=[learner.user_id, kim.id], actor=SETUP)
    return School(learner, other, own, admin, curator, reporter, course, other_course, group, other_group, kim)


def with_role(rt, app, client, platform, tenant_id: int, *, sub: str, email: str, role: str) -> Persona:
    """A learner of course-b whose tenant role is ``role``: launched once (their account is made), given the
    role by an admin (which ends that session), and launched again."""
    first = launched(client, app, platform, sub=sub, email=email, roles=[LEARNER], context="course-b")
    users.update_user(rt, tenant_id, first.user_id, {"role": role}, SETUP)
    return launched(client, app, platform, sub=sub, email=email, roles=[LEARNER], context="course-b")


def ui_actor(persona: Persona) -> Actor:
    """The actor the UI records for a persona (ui.guard.actor)."""
    return Actor(f"ui:user-{persona.user_id}", "ui", persona.user_id)


def operation_of(rt, tenant_id: int, sch: School) -> Operation:
    """A batch action the course's manager started on the course's group: an export, so its download
    (/ui/operations/{id}/export.csv) answers those who may follow it (a 409 while it runs), like its page."""
    return batch_actions.request_batch_action(
        rt, tenant_id, "export_csv", {}, ui_actor(sch.manager_own), group_id=sch.group.id
    )


def import_of(rt, tenant_id: int, sch: School) -> Import:
    """An upload of members for the course's group, started by the course's manager."""
    return preview.create_import(
        rt,
        tenant_id,
        io.BytesIO(b"email\nkim@example.edu\n"),
        "members.csv",
        preview.ImportOptions(group_id=sch.group.id),
        ui_actor(sch.manager_own),
    )


def permission_table() -> dict[str, dict[str, bool]]:
    """docs/PERMISSIONS.md's table: action -> persona -> allowed (rows like ``| `action` | yes | no | ...``)."""
    table: dict[str, dict[str, bool]] = {}
    for line in PERMISSIONS_DOC.read_text().splitlines():
        found = re.match(r"\|\s*`([a-z_]+)`\s*\|(.*)", line)
        if not found:
            continue
        cells = [c.strip().split(" ")[0].lower() for c in found.group(2).split("|")][: len(PERSONAS)]
        assert all(c in ("yes", "no") for c in cells), f"docs/PERMISSIONS.md: row {found.group(1)} must say yes or no"
        table[found.group(1)] = {p: c == "yes" for p, c in zip(PERSONAS, cells, strict=True)}
    return table


def is_member(rt, group_id: int, user_id: int) -> bool:
    return user_id in memberships.member_ids_among(rt, _tenant_of(rt, group_id), group_id, [user_id])


def _tenant_of(rt, group_id: int) -> int:
    with rt.db.read() as s:
        return s.scalar(select(Group.tenant_id).where(Group.id == group_id))


def status_of(rt, user_id: int) -> str:
    with rt.db.read() as s:
        return s.scalar(select(User.status).where(User.id == user_id))
