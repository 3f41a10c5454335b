"""LTI roles, and what they make a person here.

The one place that reads the LTI role vocabulary (LTI 1.3 §5.3.7 and Appendix A.2); launches, roster
syncs, permissions and the landing page all ask it.

LTI 1.3 A.2 keeps three vocabularies apart, and so does this module:

* system roles (A.2.1, ``…/system/person#Administrator``) and institution roles (A.2.2,
  ``…/institution/person#Administrator``) say what a person is across the platform. Only they can make a
  tenant admin, and only those the tenant lists (``settings.lti.admin_roles``; by default the institution
  and system Administrator);
* context roles (A.2.3, ``…/membership#Instructor``, sub-roles ``…/membership/Instructor#TeachingAssistant``)
  say what a person is in *this* course, and grant rights only there. A course Administrator
  (``membership#Administrator``, which Open edX and D2L send for course-team admins) manages that course's
  groups like an Instructor; it is never a tenant admin.

A role URI is matched as a whole, never by the part after ``#`` (``system/person#None`` is not a course role,
and ``membership/Learner#Instructor`` is a learner). The short context-role form (``Instructor``, which
§A.2.3 lets platforms send) is a context role. The LIS v1 URNs of LTI 1.1 (``urn:lti:role:ims/lis/Instructor``,
``urn:lti:instrole:ims/lis/Administrator``, ``urn:lti:sysrole:ims/lis/Administrator``), which LTI 1.3 no longer
lists but Moodle and Sakai still translate from, are read into the same three vocabularies. Every decision here
depends on the set of roles, never on their order (platforms such as Sakai send them in no fixed order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provisioning.i18n import N_, Message

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
SYSTEM, INSTITUTION, CONTEXT = "system", "institution", "context"
_VOCABULARY_PATHS = {SYSTEM: "system/person#", INSTITUTION: "institution/person#", CONTEXT: "membership#"}
_LIS_V1 = {
    "urn:lti:sysrole:ims/lis/": SYSTEM,
    "urn:lti:instrole:ims/lis/": INSTITUTION,
    "urn:lti:role:ims/lis/": CONTEXT,
}

# LTI 1.3 A.2.3: the context roles (core and non-core), plus LIS v1's principal TeachingAssistant.
CONTEXT_ROLES = frozenset(
    {"Administrator", "ContentDeveloper", "Instructor", "Learner", "Mentor", "Manager", "Member", "Officer"}
    | {"TeachingAssistant"}
)
# The course role an enrollment keeps, most privileged first: one person's roles give one course role,
# whatever order they came in.
COURSE_ROLE_ORDER = (
    "Administrator",
    "Instructor",
    "TeachingAssistant",
    "ContentDeveloper",
    "Mentor",
    "Manager",
    "Officer",
    "Member",
    "Learner",
)
# Course roles that manage the course's groups (course staff): kept apart from the learner roster.
COURSE_MANAGER_ROLES = ("Administrator", "Instructor", "TeachingAssistant")
DEFAULT_ADMIN_ROLES = (LIS + "institution/person#Administrator", LIS + "system/person#Administrator")
# The system and institution roles (LTI 1.3 A.2.1, A.2.2) the settings page offers as admin roles; any
# other such role URI may be listed too.
ADMIN_ROLE_CHOICES = (
    LIS + "institution/person#Administrator",
    LIS + "system/person#Administrator",
    LIS + "system/person#SysAdmin",
    LIS + "system/person#AccountAdmin",
    LIS + "system/person#SysSupport",
    LIS + "institution/person#Staff",
    LIS + "institution/person#Faculty",
)
# How the landing page names a course role (marked for the catalogs; the edge translates them).
_LABELS = {
    "Administrator": N_("Course administrator"),
    "TeachingAssistant": N_("Teaching assistant"),
    "ContentDeveloper": N_("Content developer"),
    "Instructor": N_("Instructor"),
    "Learner": N_("Learner"),
    "Mentor": N_("Mentor"),
    "Member": N_("Member"),
    "Manager": N_("Manager"),
}


@dataclass(frozen=True, order=True)
class LtiRole:
    """One role of the roles claim, read by its vocabulary."""

    vocabulary: str  # system | institution | context
    name: str  # Administrator, Instructor, None, ...
    sub: str = ""  # a context sub-role: TeachingAssistant of membership/Instructor#TeachingAssistant

    @property
    def uri(self) -> str:
        if self.sub:
            return f"{LIS}membership/{self.name}#{self.sub}"
        return LIS + _VOCABULARY_PATHS[self.vocabulary] + self.name


def parse_role(value: Any) -> LtiRole | None:
    """The role a roles-claim entry names, or None for one outside the LIS vocabularies (it grants nothing)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    for prefix in (LIS, LIS.replace("http://", "https://", 1)):
        if text.startswith(prefix):
            return _parse_lis_v2(text[len(prefix) :])
    for prefix, vocabulary in _LIS_V1.items():
        if text.startswith(prefix):
            name, _, sub = text[len(prefix) :].partition("/")
            return _role(vocabulary, name, sub if vocabulary == CONTEXT else "")
    # LTI 1.3 A.2.3: a context role may be sent by its simple name ("Instructor").
    if text in CONTEXT_ROLES:
        return LtiRole(CONTEXT, text)
    return None


def _parse_lis_v2(rest: str) -> LtiRole | None:
    for vocabulary, path in _VOCABULARY_PATHS.items():
        if rest.startswith(path):
            name, _, sub = rest[len(path) :].partition("#")  # Sakai writes membership#Instructor#TeachingAssistant
            return _role(vocabulary, name, sub if vocabulary == CONTEXT else "")
    if rest.startswith("membership/"):  # A.2.3.1 sub-role: membership/Instructor#TeachingAssistant
        name, _, sub = rest[len("membership/") :].partition("#")
        return _role(CONTEXT, name, sub)
    return None


def _role(vocabulary: str, name: str, sub: str) -> LtiRole | None:
    if not name or not name.isalnum() or (sub and not sub.isalnum()):
        return None
    return LtiRole(vocabulary, name, sub)


def parse_roles(claim: Any) -> frozenset[LtiRole]:
    """The roles claim (a list; a lone string is tolerated) as a set of roles: its order can't matter."""
    items = [claim] if isinstance(claim, str) else claim if isinstance(claim, list) else []
    return frozenset(r for r in (parse_role(item) for item in items) if r is not None)


def course_role(claim: Any) -> str | None:
    """The course role the context roles give (the enrollment's role), or None without a context role.

    A sub-role counts as its parent (``membership/Learner#Instructor`` is a Learner), except the
    Instructor's TeachingAssistant, kept as ``TeachingAssistant`` (a manager either way).
    """
    names = set()
    for role in parse_roles(claim):
        if role.vocabulary != CONTEXT or role.name not in CONTEXT_ROLES:
            continue
        names.add("TeachingAssistant" if role.name == "Instructor" and role.sub == "TeachingAssistant" else role.name)
    return next((name for name in COURSE_ROLE_ORDER if name in names), None)


def stored_course_role(value: str) -> str:
    """An enrollment role given as text (admin API, enrollment imports): an LTI context role in any of its
    forms (``…/membership#Instructor``, ``urn:lti:role:ims/lis/Instructor``) is stored as the course role a
    launch would store, so it grants the same; other text is kept as given (and manages nothing)."""
    role = parse_role(value)
    if role is None or role.vocabulary != CONTEXT:
        return value
    return course_role([value]) or value


def manages_course(role: str | None) -> bool:
    """Does this course role (an enrollment's) manage the course's groups?"""
    return role in COURSE_MANAGER_ROLES


def admin_role_set(values: Iterable[Any]) -> tuple[str, ...]:
    """A tenant's ``admin_roles`` setting, checked: system or institution role URIs (LIS v2 or v1 forms).

    Raises ValueError naming the entry that is not one: a context role can never make a tenant admin.
    """
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValueError(N_("Must be a list of system or institution role URIs."))
    found: list[str] = []
    for value in values:
        role = parse_role(value)
        if role is None or role.vocabulary == CONTEXT:
            raise ValueError(
                Message(
                    N_(
                        "%(value)r is not a system or institution role (LTI 1.3 A.2.1/A.2.2), such as %(example)s; "
                        "course roles never make a tenant admin."
                    ),
                    value=value,
                    example=DEFAULT_ADMIN_ROLES[0],
                )
            )
        if role.uri not in found:
            found.append(role.uri)
    return tuple(found)


def is_tenant_admin(claim: Any, admin_roles: Iterable[str] = DEFAULT_ADMIN_ROLES) -> bool:
    """Does the roles claim hold one of the tenant's admin roles (system or institution roles only)?"""
    wanted = {r for r in (parse_role(v) for v in admin_roles) if r is not None and r.vocabulary != CONTEXT}
    return any(role in wanted for role in parse_roles(claim))


PLATFORM_ROLES_MAX = 20  # system and institution roles a session carries (a launch rarely sends more than 3)


def platform_roles(claim: Any) -> tuple[str, ...]:
    """The system and institution roles (LTI 1.3 A.2.1/A.2.2) of a roles claim, as LIS v2 URIs, sorted: what a
    launch's session carries so the tenant's ``lti_role_map`` can be read on every request."""
    found = sorted({r.uri for r in parse_roles(claim) if r.vocabulary != CONTEXT})
    return tuple(found[:PLATFORM_ROLES_MAX])


@dataclass(frozen=True)
class LaunchRoles:
    """What a launch's roles make the person here."""

    tenant_role: str  # admin | manager | learner
    course_role: str | None  # the enrollment's role in the launch's course; None: not enrolled by the launch


def launch_roles(claim: Any, admin_roles: Iterable[str] = DEFAULT_ADMIN_ROLES) -> LaunchRoles:
    """admin when a tenant admin role is present; else manager when the course role manages; else learner.

    Without any context role, a tenant admin gets no course role, and anyone else is a Learner of the course
    (the least a launch from a course can mean).
    """
    admin = is_tenant_admin(claim, admin_roles)
    course = course_role(claim)
    if course is None and not admin:
        course = "Learner"
    tenant_role = "admin" if admin else "manager" if manages_course(course) else "learner"
    return LaunchRoles(tenant_role=tenant_role, course_role=course)


def role_label(course: str | None, tenant_role: str) -> str:
    """How the landing page names the person: their course role, else Administrator for a tenant admin."""
    if course:
        return _LABELS.get(course, course)
    return N_("Administrator") if tenant_role == "admin" else N_("Learner")
