"""The rule builder in a browser: the article's three kinds of condition (a course completed, a
department, an email that contains a word) joined by all/any, and its dates (a course completed after a
day, a start date after a day), the live count, creating the group,
editing its rule and checking who joins and who leaves before saving; at 1280 and 320 px, axe on
every step, screenshots in test-artifacts/ui/rule-builder-*.png."""

from __future__ import annotations

from provisioning.activity import Actor
from provisioning.services import groups, memberships
from provisioning.services.courses import create_course, enroll_many
from provisioning.services.signin_links import issue_signin_link
from provisioning.store.users import add_user
from tests.support.browser import Steps, expect, needs_chromium

ACTOR = Actor("test", "api")
pytestmark = needs_chromium
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
PEOPLE = [  # username, name, department, email domain, completed Driver Safety
    ("ann", "Ann Archer", "Engineering", "acme.example", True),
    ("bob", "Bob Baker", "Engineering", "partner.example", False),
    ("cid", "Cid Cole", "Sales", "partner.example", True),
    ("dee", "Dee Dunn", "Sales", "acme.example", True),
    ("eve", "Eve Evans", "Support", "acme.example", False),
]


def _seed(rt, tenant_id: int) -> dict[str, int]:
    with rt.db.transaction() as s:
        ids = {
            u: add_user(
                s,
                tenant_id,
                {
                    "username": u,
                    "email": f"{u}@{domain}",
                    "display_name": name,
                    "department": dept,
                    "custom_attributes": {"hireDate": "2024-01-15" if u in ("ann", "bob") else "2022-06-01"},
                },
                ACTOR,
            ).id
            for u, name, dept, domain, _ in PEOPLE
        }
    create_course(rt, tenant_id, "driver-safety", "Driver Safety Fundamentals", ACTOR)
    enroll_many(
        rt,
        tenant_id,
        [{"user_id": ids[u], "course_id": "driver-safety", "status": "completed"} for u, *_, done in PEOPLE if done],
        ACTOR,
    )
    return ids


def _members(rt, tenant_id: int, group_id: int) -> set[str]:
    page = memberships.list_members(rt, tenant_id, group_id, per_page=100)
    return {u.username for u, _ in page.items}


def _open(browser, tool, live_rt, tenant_id: int, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(issue_signin_link(live_rt, tenant_id).replace("http://localhost", tool.origin))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Groups").wait_for()
    return context, page


BUSY = ".htmx-request, .htmx-swapping, .htmx-settling"  # htmx's classes while a request and its swap run


def _swapped(page, act) -> None:
    """Do something that makes htmx post the builder, and wait until the new builder is in place."""
    with page.expect_response(lambda r: r.request.method == "POST"):
        act()
    expect(page.locator(BUSY)).to_have_count(0)


def _choose(page, select_id: str, label: str, then: str, text: str) -> None:
    """Pick an option; the builder is swapped in by htmx, so wait for what the change brings."""
    _swapped(page, lambda: page.locator(f"#{select_id}").select_option(label=label))
    expect(page.locator(f"#{then}")).to_contain_text(text)


def _type(page, input_id: str, value: str) -> None:
    """Type a value and leave the field (Tab): the change posts the builder."""
    page.locator(f"#{input_id}").fill(value)
    _swapped(page, lambda: page.locator(f"#{input_id}").press("Tab"))


def _new_automatic_group(live, browser, tenant, name: str):
    """The sample people, an admin at 1280 px on "Create group" with ``name`` typed and Automatic chosen."""
    tool, _lms, _pages, live_rt = live
    _seed(live_rt, tenant.id)
    context, ui = _open(browser, tool, live_rt, tenant.id, 1280)
    ui.get_by_role("link", name="Create group").click()
    ui.get_by_role("heading", name="Create group").wait_for()
    ui.get_by_label("Name", exact=True).fill(name)
    ui.get_by_role("radio", name="Automatic").check()
    return context, ui


def test_an_admin_builds_a_rule_from_the_articles_three_conditions_and_edits_it(live, browser, tenant):
    context, ui = _new_automatic_group(live, browser, tenant, "Approved drivers")
    tool, live_rt = live[0], live[3]
    steps = Steps(ui, "rule-builder")
    steps.shot("empty-builder")

    # Condition 1: completed the course (the course picker shows titles).
    _choose(ui, "r-1-field", "Course enrollment", "r-1-op", "has completed")
    _choose(ui, "r-1-value", "Driver Safety Fundamentals", "rule-preview", "3 people match this rule now.")
    expect(ui.locator("#rule-sample")).to_contain_text("Cid Cole")

    # Group 2: any of department is Engineering, email contains "@partner".
    _swapped(ui, ui.get_by_role("button", name="Add a group of conditions").click)
    expect(ui.locator("#r-2-1-field")).to_be_focused()  # the new row has focus
    _choose(ui, "r-2-1-field", "Department", "r-2-1-op", "starts with")
    _type(ui, "r-2-1-value", "Engineering")
    expect(ui.locator("#rule-preview")).to_have_text("1 person matches this rule now.")
    _swapped(ui, ui.get_by_role("button", name="Add a condition to group 2").click)
    expect(ui.locator("#r-2-2-field")).to_be_focused()
    _choose(ui, "r-2-2-op", "contains", "r-2-2-op", "contains")  # Email address is the first field
    _type(ui, "r-2-2-value", "@partner")
    expect(ui.locator("#rule-preview")).to_have_text("2 people match this rule now.")  # ann, cid
    expect(ui.locator("#rule-text")).to_have_text(
        'enrollments[course eq "driver-safety" and status eq "completed"] and '
        '(department eq "Engineering" or emails co "@partner")'
    )
    steps.shot("three-conditions-all-and-any")

    ui.get_by_role("button", name="Create group").click()
    ui.get_by_role("heading", name="Approved drivers").wait_for()
    group = next(g for g in groups.list_groups(live_rt, tenant.id, per_page=50).items if g.name == "Approved drivers")
    assert group.kind == "automatic"
    expect(ui.get_by_role("link", name="Edit rule")).to_be_visible()
    ui.reload()
    ui.get_by_role("heading", name="Approved drivers").wait_for()
    assert _members(live_rt, tenant.id, group.id) == {"ann", "cid"}
    expect(ui.locator("#rule-words")).to_have_text(
        "Members are the people who match: has completed Driver Safety Fundamentals and "
        "(Department is “Engineering” or Email address contains “@partner”)"
    )
    steps.shot("group-created")

    # Edit: the rule opens in the builder; any of the three now.
    ui.get_by_role("link", name="Edit rule").click()
    ui.get_by_role("heading", name="Edit the rule of Approved drivers").wait_for()
    expect(ui.locator("#r-2-1-value")).to_have_value("Engineering")
    _choose(ui, "match", "any of these conditions", "rule-preview", "people match this rule now.")
    expect(ui.locator("#rule-preview")).to_have_text("4 people match this rule now.")  # ann, bob, cid, dee
    steps.shot("edit-any")
    ui.get_by_role("button", name="Review the changes").click()
    expect(ui.locator("#diff-summary")).to_have_text("2 people will join, 0 will leave.")
    expect(ui.locator("#diff-join")).to_contain_text("Bob Baker")
    expect(ui.locator("#diff-join")).to_contain_text("Dee Dunn")
    steps.shot("diff-before-saving")
    ui.get_by_role("button", name="Save the rule").click()
    expect(ui.locator("#alerts")).to_contain_text("The rule was saved")
    assert groups.get_group(live_rt, tenant.id, group.id).rule.startswith("enrollments[")
    ui.reload()
    assert _members(live_rt, tenant.id, group.id) == {"ann", "bob", "cid", "dee"}

    # Text mode for power users: words are read, errors point at the position.
    ui.get_by_role("link", name="Edit rule").click()
    ui.get_by_role("button", name="Edit as text").click()
    rule = ui.get_by_role("textbox", name="Rule")
    rule.fill("department = = Sales")
    expect(ui.locator("#rule-preview")).to_contain_text("position 11")
    rule.fill("department = Sales")
    expect(ui.locator("#rule-preview")).to_have_text("2 people match this rule now.")
    steps.shot("text-mode-words")
    ui.get_by_role("button", name="Review the changes").click()
    expect(ui.locator("#diff-summary")).to_have_text("0 people will join, 2 will leave.")
    expect(ui.locator("#diff-leave")).to_contain_text("Ann Archer")
    steps.shot("text-mode-diff")
    ui.get_by_role("button", name="Use the builder").click()
    expect(ui.locator("#r-1-value")).to_have_value("Sales")
    context.close()

    # A side panel 320 px wide: nothing scrolls sideways, axe passes.
    context, narrow = _open(browser, tool, live_rt, tenant.id, 320)
    token = narrow.evaluate("document.body.getAttribute('data-launch-token')")
    narrow.goto(f"{tool.origin}/ui/groups/{group.id}/rule?lt={token}")
    narrow.locator("main h1").wait_for()
    Steps(narrow, "rule-builder-320").shot("edit-rule")
    assert narrow.evaluate(NO_SIDEWAYS_SCROLL)
    narrow.goto(f"{tool.origin}/ui/groups/new?lt={token}")
    narrow.get_by_role("radio", name="Automatic").check()
    narrow.get_by_role("button", name="Add a group of conditions").click()
    expect(narrow.locator("#r-2-1-field")).to_be_focused()
    Steps(narrow, "rule-builder-320-new").shot("builder")
    assert narrow.evaluate(NO_SIDEWAYS_SCROLL)
    context.close()


def test_an_admin_builds_a_rule_on_dates_a_course_completed_after_a_day_and_a_start_date(live, browser, tenant):
    context, ui = _new_automatic_group(live, browser, tenant, "Recent safe drivers")
    live_rt = live[3]
    steps = Steps(ui, "rule-builder-dates")

    # Completed Driver Safety after 1 Jan 2020 (the enrollment status with a date).
    _choose(ui, "r-1-field", "Course enrollment", "r-1-op", "completed after")
    _swapped(ui, lambda: ui.locator("#r-1-op").select_option(label="completed after"))
    _choose(ui, "r-1-value", "Driver Safety Fundamentals", "r-1-value", "Driver Safety Fundamentals")
    _type(ui, "r-1-value2", "2020-01-01")
    expect(ui.locator("#rule-preview")).to_have_text("3 people match this rule now.")

    # And a start date (the hireDate additional field, a date) after the end of 2023.
    _swapped(ui, ui.get_by_role("button", name="Add a condition", exact=True).click)
    _choose(ui, "r-2-field", "Hire date", "r-2-op", "is after")
    _swapped(ui, lambda: ui.locator("#r-2-op").select_option(label="is after"))
    _type(ui, "r-2-value", "2023-12-31")
    expect(ui.locator("#rule-preview")).to_have_text("1 person matches this rule now.")
    expect(ui.locator("#rule-sample")).to_contain_text("Ann Archer")
    steps.shot("course-after-a-day-and-a-start-date")
    ui.get_by_role("button", name="Create group").click()
    ui.get_by_role("heading", name="Recent safe drivers").wait_for()
    expect(ui.locator("#rule-words")).to_contain_text("completed Driver Safety Fundamentals after")
    group = next(g for g in groups.list_groups(live_rt, tenant.id, q="Recent safe").items)
    ui.reload()
    assert _members(live_rt, tenant.id, group.id) == {"ann"}
    steps.shot("group-created")
    context.close()
