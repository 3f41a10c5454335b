"""The logs in words (issue 16): every log page shows names and words, never channel or actor codes, object
types with ids, action keys or JSON, in English and German; and the activity log's CSV download holds every
row the filters select, across pages, within the viewer's scope."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from provisioning import activity
from provisioning.models import Operation
from provisioning.services import memberships, tenant_settings
from tests.support.busy_log import BusyLog, busy_log, codes_in, visible_text
from tests.support.factories import make_users
from tests.support.personas import SETUP


@pytest.fixture
def log(rt, app, client, tenant, platform, run_jobs) -> BusyLog:
    return busy_log(rt, app, client, tenant, platform, run_jobs)


def _pages(rt, tenant_id: int, log: BusyLog) -> list[str]:
    with rt.db.read() as s:
        ops = s.scalars(select(Operation.id).where(Operation.tenant_id == tenant_id)).all()
    people = [log.sch.kim.id, log.sch.manager_own.user_id]
    return (
        ["/ui/activity", "/ui/logs", "/ui/emails", "/ui/reports"]
        + [f"/ui/people/{i}" for i in people]
        + [f"/ui/operations/{i}" for i in ops]
    )


def _read(session, path: str) -> str:
    response = session.get(path)
    assert response.status_code in (200, 403, 404), (path, response.status_code)
    return visible_text(response.get_data(as_text=True))


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_log_page_shows_words_never_codes_or_ids(rt, tenant, log, language):
    if language != "en":
        tenant_settings.update_settings(rt, tenant.id, {"default_language": language}, SETUP)
    for who in ("admin", "manager_own"):
        session = log.sch.persona(who).session
        for path in _pages(rt, tenant.id, log):
            text = _read(session, path)
            assert not codes_in(text), (language, who, path, codes_in(text))
    if language == "de":
        assert "Gruppen" in _read(log.sch.admin.session, "/ui/activity")  # the page is German


def test_the_activity_log_names_every_kind_of_actor_and_the_deleted(tenant, log):
    text = _read(log.sch.admin.session, "/ui/activity")
    for words in (
        "The web app",  # channels
        "The admin API",
        "SCIM (directory sync)",
        "The LMS (LTI)",
        "A background job",
        "A group rule",
        "The command line",
        "An invitation link",
        "API key “HR sync”",  # actors
        "The directory sync “Entra ID” (SCIM)",
        "The LMS (Canvas)",  # the LMS by its registration's name
        "The command line (",
        "A scheduled job",
        "A scheduled report",
        "An LMS registering itself",
        "A deleted person",  # a deleted person acting, and acted on
        "Deleted the person a deleted person",
        "the deleted group “Old cohort”",
        "the role “Team coordinator”",
        "the LMS “Canvas”",
    ):
        assert words in text, words
    # A job the LMS started (a roster group made) names the LMS, even on a page with nothing else from it.
    made = visible_text(
        log.sch.admin.session.get("/ui/activity", channel="lti", action="group.created").get_data(as_text=True)
    )
    assert "The LMS (Canvas) Created the group Roster: Course One" in made
    html = log.sch.admin.session.get("/ui/activity").get_data(as_text=True)
    # Names of what still exists are links to it.
    assert f'href="/ui/groups/{log.sch.group.id}">Course A seminar</a>' in html
    assert f'href="/ui/people/{log.sch.kim.id}">Kim</a>' in html


def test_a_manager_sees_other_people_as_outside_and_deleted_groups_without_their_names(log):
    text = _read(log.sch.manager_own.session, "/ui/activity")
    assert "Old cohort" not in text and "Course B seminar" not in text
    assert "Someone outside your groups" in text  # the admin who messaged her group


def test_the_person_page_names_a_custom_role_by_its_name_not_its_key(log):
    page = log.sch.admin.session.get(f"/ui/people/{log.sch.kim.id}").get_data(as_text=True)
    assert 'id="tenant-role">Team coordinator<' in page


def test_the_operation_page_says_who_started_it(rt, tenant, log):
    with rt.db.read() as s:
        message = s.scalar(select(Operation).where(Operation.type == "group_message"))
        roster = s.scalar(select(Operation).where(Operation.type == "roster_sync"))
    page = log.sch.admin.session.get(f"/ui/operations/{message.id}").get_data(as_text=True)
    assert f'id="started-by"><a href="/ui/people/{log.sch.admin.user_id}">Ada</a>' in page
    assert 'id="started-by">The LMS (Canvas)<' in log.sch.admin.session.get(f"/ui/operations/{roster.id}").get_data(
        as_text=True
    )
    gone = log.sch.manager_own.session.get(f"/ui/operations/{roster.id}")
    assert gone.status_code == 404 and str(roster.id) not in visible_text(gone.get_data(as_text=True))


# --- the CSV download -----------------------------------------------------------------------------


def _shown(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The CSV's rows as the page shows them: what happened, and to what (with the others it names)."""
    return [(r["What happened"], " — ".join(filter(None, (r["To what"], r["Also named"])))) for r in rows]


def _csv(session, **args) -> list[dict[str, str]]:
    response = session.get("/ui/activity.csv", **args)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _page_rows(session, **args) -> list[tuple[str, str]]:
    """Every row of every page of the activity log (what happened, to what), in order."""
    out: list[tuple[str, str]] = []
    page = 1
    while True:
        html = session.get("/ui/activity", page=page, **args).get_data(as_text=True)
        body = html.split("<tbody>")[1].split("</tbody>")[0]
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        cells = [[visible_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
        out += [(c[2], c[3]) for c in cells if len(c) == 5]
        if f"page={page + 1}" not in html:
            return out
        page += 1


@pytest.fixture
def long_log(rt, tenant, log) -> BusyLog:
    """More than three pages of events about the course's group (40 people joining and leaving it) and
    about the other course's group."""
    ids = list(make_users(rt, tenant.id, *(f"p{i}@example.edu" for i in range(40))).values())
    memberships.add_members(rt, tenant.id, log.sch.group.id, user_ids=ids, actor=SETUP)
    memberships.remove_members(rt, tenant.id, log.sch.group.id, ids, SETUP)
    memberships.add_members(rt, tenant.id, log.sch.other_group.id, user_ids=ids[:5], actor=SETUP)
    return log


def test_the_activity_csv_has_every_row_the_filters_select_not_just_the_page(long_log):
    admin = long_log.sch.admin.session
    rows = _csv(admin)
    assert len(rows) > 150  # more than three pages of 50
    assert _shown(rows) == _page_rows(admin)
    assert list(rows[0]) == ["When (UTC)", "Who", "What happened", "To what", "Also named", "Through", "Action code"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["When (UTC)"]) for r in rows)
    assert not any(codes_in(" ".join(list(r.values())[:-1])) for r in rows)
    only = {"action": "group.member_added", "group": str(long_log.sch.group.id)}
    added = _csv(admin, **only)
    assert len(added) >= 40 and _shown(added) == _page_rows(admin, **only)
    assert {r["To what"] for r in added} == {"Course A seminar"}
    assert {r["Action code"] for r in added} == {"group.member_added"}
    assert {r["Through"] for r in _csv(admin, channel="scim")} == {"SCIM (directory sync)"}
    assert _csv(admin, since="2999-01-01") == []


def test_a_managers_csv_leaves_out_what_their_page_does_not_show(long_log):
    tia = long_log.sch.manager_own.session
    rows = _csv(tia)
    assert len(rows) > 50  # more than a page
    assert _shown(rows) == _page_rows(tia)
    text = " ".join(" ".join(r.values()) for r in rows)
    assert "Course B seminar" not in text and "Old cohort" not in text
    assert len(_csv(long_log.sch.admin.session)) > len(rows)


def test_the_keyset_chunks_read_every_event_once_in_order(rt, tenant, long_log):
    where = activity.EventFilter()
    everything = activity.list_events(rt, tenant.id, per_page=10_000).items
    chunks = list(activity.iter_events(rt, tenant.id, where, chunk=7))
    assert all(len(c) == 7 for c in chunks[:-1]) and 0 < len(chunks[-1]) <= 7
    assert [e.id for c in chunks for e in c] == [e.id for e in everything]
