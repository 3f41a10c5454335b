"""The LTI role vocabulary (provisioning/roles.py) on the role lists real platforms send.

Each platform's list is transcribed from its public source or documentation (cited beside it). Every
case is also checked in every order of its list: the result must not depend on it.
"""

from __future__ import annotations

from itertools import permutations

import pytest

from provisioning.roles import (
    DEFAULT_ADMIN_ROLES,
    LIS,
    LtiRole,
    admin_role_set,
    course_role,
    launch_roles,
    parse_role,
    role_label,
    stored_course_role,
)

SYS, INST, CTX = LIS + "system/person#", LIS + "institution/person#", LIS + "membership#"
INSTITUTION_ADMIN_ONLY = (INST + "Administrator",)

# (platform, who, roles claim, source, expected (tenant role, course role) with the default setting)
PLATFORM_ROLE_LISTS = [
    # Canvas: an account admin who teaches the course; the membership role is the course role.
    # https://community.canvaslms.com/t5/Canvas-Developers-Group/LTI-1-3-mixing-roles/m-p/576665 and
    # https://developerdocs.instructure.com/services/canvas/external-tools/file.canvas_roles
    (
        "Canvas",
        "account admin teaching the course",
        [INST + "Administrator", INST + "Instructor", INST + "Student", CTX + "Instructor", SYS + "User"],
        ("admin", "Instructor"),
    ),
    ("Canvas", "teacher", [INST + "Instructor", CTX + "Instructor", SYS + "User"], ("manager", "Instructor")),
    (
        "Canvas",
        "TA (a sub-role of Instructor)",
        [INST + "Student", LIS + "membership/Instructor#TeachingAssistant", SYS + "User"],
        ("manager", "TeachingAssistant"),
    ),
    ("Canvas", "student", [INST + "Student", CTX + "Learner", SYS + "User"], ("learner", "Learner")),
    (
        "Canvas",
        "designer",
        [INST + "Instructor", CTX + "ContentDeveloper", SYS + "User"],
        ("learner", "ContentDeveloper"),
    ),
    ("Canvas", "observer", [CTX + "Mentor", SYS + "User"], ("learner", "Mentor")),
    # Moodle (mod/lti/locallib.php lti_get_ims_role, turned into LTI 1.3 URIs by lti_sign_jwt): a site admin
    # gets urn:lti:sysrole/instrole Administrator, converted to system/ and institution/person#Administrator.
    # https://github.com/moodle/moodle/blob/main/mod/lti/locallib.php
    ("Moodle", "teacher", [CTX + "Instructor"], ("manager", "Instructor")),
    ("Moodle", "student", [CTX + "Learner"], ("learner", "Learner")),
    (
        "Moodle",
        "site admin in a course they manage",
        [CTX + "Instructor", SYS + "Administrator", INST + "Administrator"],
        ("admin", "Instructor"),
    ),
    # Moodle's LTI 1.1 form of the same (short context names and LIS v1 URNs), before its 1.3 conversion.
    (
        "Moodle",
        "site admin, LTI 1.1 forms",
        ["Instructor", "urn:lti:sysrole:ims/lis/Administrator", "urn:lti:instrole:ims/lis/Administrator"],
        ("admin", "Instructor"),
    ),
    # Open edX xblock-lti-consumer: launches send LTI_1P3_ROLE_MAP, NRPS sends LTI_1P3_CONTEXT_ROLE_MAP
    # (staff -> membership#Administrator). https://github.com/openedx/xblock-lti-consumer/blob/master/
    # lti_consumer/lti_1p3/constants.py and lti_consumer/lti_1p3/extensions/rest_framework/serializers.py
    (
        "Open edX",
        "course staff (launch)",
        [SYS + "Administrator", INST + "Instructor"],
        ("admin", None),
    ),
    ("Open edX", "course staff (NRPS)", [CTX + "Administrator"], ("manager", "Administrator")),
    ("Open edX", "instructor (NRPS)", [CTX + "Instructor"], ("manager", "Instructor")),
    ("Open edX", "student (launch)", [INST + "Student"], ("learner", "Learner")),
    # D2L Brightspace: an administrator launching from a course (a real id_token posted in
    # https://github.com/jebba2/lti13share/blob/main/readme.md), and a course-only admin role.
    (
        "D2L Brightspace",
        "org administrator in a course",
        [CTX + "Instructor", CTX + "Administrator", INST + "Instructor", INST + "Administrator"],
        ("admin", "Administrator"),
    ),
    ("D2L Brightspace", "course administrator", [CTX + "Administrator", INST + "Staff"], ("manager", "Administrator")),
    # Sakai (SakaiLTIUtil LTI_LEGACY_ROLE_MAP_DEFAULT; roles go through a HashSet, so in no fixed order):
    # TeachingAssistant is written membership#Instructor#TeachingAssistant, Administrator institution/person.
    # https://github.com/sakaiproject/sakai/blob/master/lti/lti-common/src/java/org/sakaiproject/lti/util/SakaiLTIUtil.java
    ("Sakai", "instructor", [CTX + "Instructor"], ("manager", "Instructor")),
    ("Sakai", "TA", [CTX + "Instructor#TeachingAssistant"], ("manager", "TeachingAssistant")),
    ("Sakai", "admin in a site", [CTX + "Instructor", INST + "Administrator"], ("admin", "Instructor")),
    ("Sakai", "student", [CTX + "Learner"], ("learner", "Learner")),
]


def _ids(case) -> str:
    return f"{case[0]}: {case[1]}"


@pytest.mark.parametrize("platform,who,roles,expected", PLATFORM_ROLE_LISTS, ids=map(_ids, PLATFORM_ROLE_LISTS))
def test_real_platform_role_lists_map_the_same_in_every_order(platform, who, roles, expected):
    results = {(r.tenant_role, r.course_role) for r in (launch_roles(list(order)) for order in permutations(roles))}
    assert results == {expected}


def test_a_course_administrator_is_never_a_tenant_admin_whatever_the_setting_lists():
    for roles in ([CTX + "Administrator"], ["urn:lti:role:ims/lis/Administrator"], ["Administrator"]):
        assert launch_roles(roles).tenant_role == "manager"
        assert launch_roles(roles, admin_roles=[]).tenant_role == "manager"
    with pytest.raises(ValueError, match="course roles never make a tenant admin"):
        admin_role_set([CTX + "Administrator"])


def test_open_edx_staff_are_course_managers_where_the_tenant_trusts_only_institution_admins():
    """Open edX sends system/person#Administrator to all course staff: such a tenant narrows the setting."""
    staff = [SYS + "Administrator", INST + "Instructor", CTX + "Administrator"]
    assert launch_roles(staff).tenant_role == "admin"
    narrowed = launch_roles(staff, admin_roles=INSTITUTION_ADMIN_ONLY)
    assert (narrowed.tenant_role, narrowed.course_role) == ("manager", "Administrator")


@pytest.mark.parametrize(
    "roles",
    [
        [SYS + "None", CTX + "Learner"],
        [INST + "None", SYS + "None", CTX + "Learner"],
        [SYS + "None", INST + "Student", LIS + "membership/Learner#NonCreditLearner"],
    ],
)
def test_none_is_never_a_course_role(roles):
    for order in permutations(roles):
        result = launch_roles(list(order))
        assert (result.tenant_role, result.course_role) == ("learner", "Learner")
        assert role_label(result.course_role, result.tenant_role) == "Learner"


def test_sub_roles_keep_their_parent_vocabulary_and_rights():
    assert parse_role(LIS + "membership/Instructor#TeachingAssistant") == LtiRole(
        "context", "Instructor", "TeachingAssistant"
    )
    assert course_role([LIS + "membership/Instructor#Grader"]) == "Instructor"
    assert course_role([LIS + "membership/Administrator#Support"]) == "Administrator"
    # Learner#Instructor is a kind of learner, not an instructor (what the part after # would say).
    assert launch_roles([LIS + "membership/Learner#Instructor"]).tenant_role == "learner"
    assert launch_roles(["urn:lti:role:ims/lis/Learner/Instructor"]).tenant_role == "learner"
    assert launch_roles(["urn:lti:role:ims/lis/Instructor/Lecturer"]).course_role == "Instructor"


def test_institution_and_system_roles_are_not_course_roles():
    # institution/person#Instructor is a job title, not a role in this course.
    result = launch_roles([INST + "Instructor", INST + "Faculty", SYS + "User"])
    assert (result.tenant_role, result.course_role) == ("learner", "Learner")
    assert parse_role("urn:lti:instrole:ims/lis/Administrator") == LtiRole("institution", "Administrator")
    assert parse_role("urn:lti:sysrole:ims/lis/SysAdmin") == LtiRole("system", "SysAdmin")


def test_a_tenant_admin_without_a_context_role_gets_no_course_role_and_is_named_administrator():
    result = launch_roles([INST + "Administrator"])
    assert (result.tenant_role, result.course_role) == ("admin", None)
    assert role_label(None, "admin") == "Administrator"
    assert role_label("Administrator", "manager") == "Course administrator"


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com/custom#Administrator",
        LIS + "person#Administrator",  # Moodle's LTI 2 form names no vocabulary
        "Administrator#",
        "",
        None,
        42,
        LIS + "membership#",
        LIS + "system/person#Admin istrator",
    ],
)
def test_roles_outside_the_vocabularies_grant_nothing(value):
    assert parse_role(value) is None
    assert launch_roles([value]).tenant_role == "learner"


def test_the_admin_roles_setting_reads_every_form_and_refuses_context_roles():
    assert admin_role_set(["urn:lti:instrole:ims/lis/Administrator", INST + "Administrator"]) == (
        INST + "Administrator",
    )
    assert admin_role_set([]) == ()
    assert DEFAULT_ADMIN_ROLES == (INST + "Administrator", SYS + "Administrator")
    for bad in (["Instructor"], ["nonsense"], "not a list"):
        with pytest.raises(ValueError):
            admin_role_set(bad)
    # The LIS v1 system admin matches the setting's LIS v2 URI.
    assert launch_roles(["urn:lti:sysrole:ims/lis/Administrator"]).tenant_role == "admin"
    assert launch_roles([SYS + "SysAdmin"]).tenant_role == "learner"
    assert launch_roles([SYS + "SysAdmin"], admin_roles=[SYS + "SysAdmin"]).tenant_role == "admin"


def test_enrollment_roles_given_as_text_are_stored_as_a_launch_would_store_them():
    assert stored_course_role(CTX + "Administrator") == "Administrator"
    assert stored_course_role("urn:lti:role:ims/lis/TeachingAssistant") == "TeachingAssistant"
    assert stored_course_role(LIS + "membership/Learner#Instructor") == "Learner"
    assert stored_course_role(SYS + "None") == SYS + "None"
    assert stored_course_role("learner") == "learner"
