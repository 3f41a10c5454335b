"""The README's screenshots of the UI (docs/screenshots/*.png), taken in Chromium from a small sample tenant.

Not part of the test suite (pytest collects ``test_*.py`` only); run it when the screens change:

    python -m tests.e2e.browser.readme_screenshots

It drives the browser suite's own fixtures (the tool served live on the test database, SQLite unless
TEST_DATABASE_URL says otherwise; headless Chromium), takes each screen at a 1280 x 860 viewport (the
visible part, not the whole page) and one at 320 px, and runs axe-core on each as the browser tests do.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from provisioning.activity import Actor
from provisioning.lti import launch as lti_launch
from provisioning.services import certificates, group_managers, groups, memberships, tasks, tenant_settings
from provisioning.services.courses import create_course, enroll_many
from provisioning.store.users import add_user
from tests.support.axe import assert_accessible
from tests.support.browser import expect, needs_chromium, signed_in

ACTOR = Actor("admin", "ui")
OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
pytestmark = needs_chromium
PEOPLE = [  # given, family, department, start date, completed the safety course
    ("Ada", "Lovelace", "Engineering", "2023-09-01", True),
    ("Ben", "Okafor", "Engineering", "2024-02-12", False),
    ("Chloé", "Martin", "Sales", "2022-05-30", True),
    ("Dev", "Patel", "Sales", "2024-11-04", False),
    ("Elif", "Yılmaz", "Support", "2021-01-18", True),
    ("Femi", "Adeyemi", "Support", "2025-03-03", False),
    ("Grace", "Hopper", "Engineering", "2020-07-07", True),
]


def _sample(rt, tenant_id: int) -> dict:
    """People with departments and start dates, a course, a manual, an automatic and a course group."""
    with rt.db.transaction() as s:
        ids = {
            given: add_user(
                s,
                tenant_id,
                {
                    "username": given.lower(),
                    "email": f"{given.lower()}.{family.lower()}@example.edu",
                    "given_name": given,
                    "family_name": family,
                    "department": dept,
                    "custom_attributes": {"startDate": start},
                },
                ACTOR,
            ).id
            for given, family, dept, start, _ in PEOPLE
        }
    course = create_course(rt, tenant_id, "safety-101", "Workplace Safety", ACTOR)
    enroll_many(
        rt,
        tenant_id,
        [
            {"user_id": ids[g], "course_id": "safety-101", "status": "completed" if done else "enrolled"}
            for g, *_, done in PEOPLE
        ],
        ACTOR,
    )
    onboarding = groups.create_group(
        rt, tenant_id, {"name": "Onboarding 2026", "description": "Everyone who starts in 2026."}, ACTOR
    )
    memberships.add_members(
        rt, tenant_id, onboarding.id, user_ids=[ids[g] for g in ("Ada", "Ben", "Dev", "Femi")], actor=ACTOR
    )
    lti_launch.add_course_group(rt, tenant_id, course.id, onboarding.id)
    group_managers.assign_manager(
        rt, tenant_id, onboarding.id, ids["Grace"], ["view_users", "message", "export"], ACTOR
    )
    drivers = groups.create_group(
        rt,
        tenant_id,
        {
            "name": "Certified in safety",
            "kind": "automatic",
            "rule": 'enrollments[course eq "safety-101" and status eq "completed"] and department eq "Engineering"',
        },
        ACTOR,
    )
    sales = groups.create_group(rt, tenant_id, {"name": "Sales team"}, ACTOR)
    memberships.add_members(rt, tenant_id, sales.id, user_ids=[ids["Chloé"], ids["Dev"]], actor=ACTOR)
    groups.create_group(rt, tenant_id, {"name": "Alumni"}, ACTOR)
    with rt.db.transaction() as s:
        tasks.add_tasks(s, tenant_id, [ids["Ada"]], "Read the safety handbook", date(2026, 3, 1), "admin")
        certificates.assign_certificates(s, tenant_id, [ids["Ada"]], "First aid", date(2025, 11, 20), "admin")
    tenant_settings.update_settings(
        rt, tenant_id, {"join_url": "https://lms.example.edu/join", "sender_name": "Acme Learning"}, ACTOR
    )
    return {"ids": ids, "onboarding": onboarding, "drivers": drivers}


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    assert_accessible(page, name)
    page.screenshot(path=str(OUT / f"{name}.png"))


def test_readme_screenshots(live, browser, tenant) -> None:
    tool, _lms, _pages, live_rt = live
    world = _sample(live_rt, tenant.id)
    OUT.mkdir(parents=True, exist_ok=True)
    context, page = signed_in(browser, tool, live_rt, tenant.id, height=860)
    onboarding, drivers = world["onboarding"].id, world["drivers"].id

    _shot(page, "groups")

    page.goto(f"{tool.origin}/ui/groups/{onboarding}")
    page.get_by_role("heading", name="Onboarding 2026").wait_for()
    _shot(page, "group-dashboard")

    page.get_by_label("Select Ada Lovelace").check()
    page.get_by_label("Select Ben Okafor").check()
    page.locator("#action").select_option("add_task")
    page.locator("#param-add_task-title").fill("Book a mentor")
    page.locator("#members-table").evaluate(
        "t => window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY - 90)"
    )
    page.screenshot(path=str(OUT / "group-page.png"))  # the members with two ticked and a batch action chosen
    page.get_by_role("button", name="Apply to selected").click()
    page.locator("#confirm-examples").wait_for()
    _shot(page, "batch-confirm")

    page.goto(f"{tool.origin}/ui/people/{world['ids']['Ada']}")
    page.get_by_role("heading", name="Ada Lovelace").wait_for()
    _shot(page, "person")

    page.goto(f"{tool.origin}/ui/imports/new")
    page.get_by_label("File", exact=True).set_input_files(
        {
            "name": "groups.csv",
            "mimeType": "text/csv",
            "buffer": (
                "Groupname,Email,Email\nNight shift,ada.lovelace@example.edu,chloé.martin@example.edu\n"
                "Sales team,dev.patel@example.edu,not-an-email\n"
            ).encode(),
        }
    )
    page.get_by_role("button", name="Preview").click()
    page.locator("#import-format").wait_for()
    page.locator('li.import-group[data-group="Night shift"] summary').click()
    _shot(page, "upload-preview")

    page.goto(f"{tool.origin}/ui/groups/{drivers}/rule")
    page.get_by_role("heading", name="Edit the rule of Certified in safety").wait_for()
    expect(page.locator("#rule-preview")).to_contain_text("match this rule now")
    _shot(page, "rule-builder")

    page.goto(f"{tool.origin}/ui/activity")
    page.locator("#events").wait_for()
    _shot(page, "activity-log")

    page.goto(f"{tool.origin}/ui/settings")
    page.get_by_role("heading", name="Settings").wait_for()
    _shot(page, "settings")

    page.goto(f"{tool.origin}/ui/settings/notifications/completed")
    page.locator("main h1").wait_for()
    _shot(page, "notification")

    token = page.evaluate("document.body.getAttribute('data-launch-token')")
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto(f"{tool.origin}/ui/groups/{onboarding}?lt={token}")
    page.get_by_role("heading", name="Onboarding 2026").wait_for()
    _shot(page, "narrow-320-group")
    context.close()


if __name__ == "__main__":
    import pytest

    sys.exit(pytest.main([__file__, "-q", "-n", "0", "-p", "no:cacheprovider", *sys.argv[1:]]))
