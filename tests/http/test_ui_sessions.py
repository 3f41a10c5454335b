"""UI sessions through real LTI launches and real HTTP (issue 15, defects 3 and 4).

* A launch token in a link never silently replaces the browser's session of another person or
  tenant (login CSRF): the page names both and asks; only the browser's own answer switches.
* The token leaves the address after the first request where the cookie works, and keeps
  working from URLs where it does not (an LMS iframe blocking third-party cookies).
* A session ends when its person is deactivated, deleted or given another role, through every
  channel, on the very next request; sign-out ends it on the server, so a replayed token fails.
"""

from __future__ import annotations

import html
import re

import pytest

from provisioning.services import groups
from tests.support.api import batch, commit_and_run, preview
from tests.support.factories import ADMIN, make_user
from tests.support.lti_platform import ADMINISTRATOR, INSTRUCTOR, Platform, launch, register_platform
from web.session import COOKIE

SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _token(landing) -> str:
    assert landing.status_code == 200, _text(landing)
    return _text(landing).split('name="launch-token" content="')[1].split('"')[0]


def _cookie(client) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found else None


def _hidden(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


@pytest.fixture
def platform_b(app):
    """A second LMS, registered with the other tenant."""
    p = Platform(lambda: app.test_client().get("/lti/jwks").get_json())
    yield p
    p.close()


@pytest.fixture
def two_tenants(rt, tenant, other_tenant, platform, platform_b):
    register_platform(rt, tenant.id, platform)
    register_platform(rt, other_tenant.id, platform_b)
    groups.create_group(rt, tenant.id, {"name": "Group of A"}, ADMIN)
    groups.create_group(rt, other_tenant.id, {"name": "Group of B"}, ADMIN)
    return tenant, other_tenant


# --- defect 3: a link's token does not replace another person's session --------------------------------


def test_a_link_with_another_tenants_launch_token_does_not_switch_a_signed_in_admin(
    app, client, two_tenants, platform, platform_b
):
    victim = client  # signed in to tenant A by a real launch: the cookie holds A's session
    launch(victim, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example", name="Ann Admin")
    mine = _cookie(victim)
    assert "Group of A" in _text(victim.get("/ui/groups"))
    # The attacker launches in their own tenant B and sends a link carrying B's token.
    attacker = app.test_client()
    theirs = _token(launch(attacker, platform_b, sub="eve", roles=[ADMINISTRATOR], email="eve@b.example", name="Eve"))

    page = victim.get("/ui/groups", query_string={"lt": theirs})
    assert page.status_code == 409, _text(page)
    body = _text(page)
    assert "Ann Admin" in body and "Acme University" in body  # the session the browser has
    assert "Eve" in body and "Other College" in body  # the one the link would give
    assert "Group of B" not in body and "Group of A" not in body
    assert _cookie(victim) == mine  # nothing switched
    assert "Group of A" in _text(victim.get("/ui/groups"))
    # The LTI landing page's link, and a page's form carrying B's token (with B's own CSRF token,
    # which the attacker can read from their page), are held the same way.
    assert victim.get("/lti/home", query_string={"lt": theirs}, follow_redirects=True).status_code == 409
    b_csrf = re.search(r'data-csrf="([0-9a-f]+)"', _text(attacker.get("/ui/groups"))).group(1)
    forged = victim.post("/ui/groups/new", data={"lt": theirs, "csrf": b_csrf, "name": "Planted", "kind": "manual"})
    assert forged.status_code == 409 and _cookie(victim) == mine
    assert "Planted" not in _text(attacker.get("/ui/groups"))

    # Another site cannot answer the question for the user: the choice needs the page's token.
    choice = _hidden(body)
    assert choice["token"] == theirs and choice["next"] == "/ui/groups"
    refused = victim.post("/ui/switch", data={**choice, "csrf": "0" * 64, "choice": "continue"})
    assert refused.status_code == 403 and _cookie(victim) == mine
    # "Stay": back to the page, still as Ann.
    stay = victim.post("/ui/switch", data={**choice, "choice": "stay"})
    assert stay.status_code == 302 and stay.headers["Location"] == "/ui/groups" and _cookie(victim) == mine
    assert "Group of A" in _text(victim.get("/ui/groups"))
    # "Continue": the browser now works as Eve in tenant B, as its user chose.
    again = _hidden(_text(victim.get("/ui/groups", query_string={"lt": theirs})))
    moved = victim.post("/ui/switch", data={**again, "choice": "continue"})
    assert moved.status_code == 302 and _cookie(victim) == theirs
    assert "Group of B" in _text(victim.get(moved.headers["Location"]))


def test_a_link_of_the_same_person_is_followed_without_asking(app, client, two_tenants, platform):
    launch(client, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example")
    other_browser = app.test_client()
    again = _token(launch(other_browser, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example"))
    opened = client.get("/ui/groups", query_string={"lt": again}, follow_redirects=True)
    assert opened.status_code == 200 and "Group of A" in _text(opened)


def test_the_token_leaves_the_address_after_the_first_request_where_the_cookie_works(client, two_tenants, platform):
    landing = launch(client, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example")
    link = re.search(r'id="open-ui" href="([^"]+)"', _text(landing)).group(1)
    assert "lt=" in html.unescape(link)  # the landing page's link still carries it (the iframe may block cookies)
    first = client.get(html.unescape(link))
    assert first.status_code == 302 and "lt=" not in first.headers["Location"]
    page = client.get(first.headers["Location"], follow_redirects=True)
    assert (
        page.status_code == 200
        and page.request.path == "/ui/groups"
        and "lt=" not in page.request.query_string.decode()
    )
    body = _text(page)
    assert "Group of A" in body
    assert not re.search(r'href="[^"]*lt=', body)  # no link of the page carries the token
    again = client.get("/lti/home", query_string={"lt": _cookie(client)})  # the landing page's "Continue"
    assert again.status_code == 302 and again.headers["Location"] == "/lti/home"
    assert client.get("/lti/home").status_code == 200
    # A browser without the cookie yet, given the token in a URL: the cookie is set, and once it
    # comes back the token leaves the address.
    token = _cookie(client)
    fresh = type(client)(client.application)
    probe = fresh.get("/ui/people", query_string={"lt": token, "q": "x"})
    assert probe.status_code == 302 and _cookie(fresh) == token
    clean = fresh.get(probe.headers["Location"])
    assert clean.status_code == 302 and clean.headers["Location"] == "/ui/people?q=x"
    assert fresh.get("/ui/people?q=x").status_code == 200


def test_where_the_browser_blocks_the_cookie_the_token_keeps_working_from_urls(app, client, two_tenants, platform):
    token = _token(launch(client, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example"))
    iframe = app.test_client(use_cookies=False)  # third-party cookies blocked
    probe = iframe.get("/ui/groups", query_string={"lt": token})
    assert probe.status_code == 302 and "nc=1" in probe.headers["Location"]
    page = iframe.get(probe.headers["Location"])
    assert page.status_code == 200 and "Group of A" in _text(page)
    link = html.unescape(re.search(r'href="(/ui/people[^"]*)"', _text(page)).group(1))
    assert "lt=" in link and "nc=1" in link
    assert iframe.get(link).status_code == 200  # no further round trip per page


# --- defect 4: sessions end with the person, and on sign-out -------------------------------------------


def _user_id(rt, tenant_id: int, email: str) -> int:
    from sqlalchemy import select

    from provisioning.models import User

    with rt.db.read() as s:
        return s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.email == email))


def _scim_patch(client, tenant, uid, value):
    return client.patch(
        f"/scim/v2/Users/{uid}",
        json={"schemas": [SCIM_PATCH], "Operations": [{"op": "replace", "value": value}]},
        headers=tenant.scim,
    )


CHANNELS = {
    "admin API: active false": lambda c, t, uid, jobs: c.patch(
        f"/api/v1/users/{uid}", json={"active": False}, headers=t.admin
    ),
    "admin API: status deactivated": lambda c, t, uid, jobs: c.patch(
        f"/api/v1/users/{uid}", json={"status": "deactivated"}, headers=t.admin
    ),
    "admin API: demoted": lambda c, t, uid, jobs: c.patch(
        f"/api/v1/users/{uid}", json={"role": "learner"}, headers=t.admin
    ),
    "batch action: deactivate": lambda c, t, uid, jobs: (batch(c, t, "deactivate", user_ids=[uid]), jobs()),
    "batch action: delete": lambda c, t, uid, jobs: (batch(c, t, "delete", user_ids=[uid]), jobs()),
    "batch action: change role": lambda c, t, uid, jobs: (
        batch(c, t, "change_role", user_ids=[uid], params={"role": "learner"}),
        jobs(),
    ),
    "SCIM: PATCH active false": lambda c, t, uid, jobs: _scim_patch(c, t, uid, {"active": False}),
    "SCIM: DELETE": lambda c, t, uid, jobs: c.delete(f"/scim/v2/Users/{uid}", headers=t.scim),
    "SCIM: PUT active false": lambda c, t, uid, jobs: _scim_put_inactive(c, t, uid),
    "SCIM: Bulk PATCH active false": lambda c, t, uid, jobs: c.post(
        "/scim/v2/Bulk",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {
                    "method": "PATCH",
                    "path": f"/Users/{uid}",
                    "data": {"schemas": [SCIM_PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
                }
            ],
        },
        headers=t.scim,
    ),
    "user import: demoted": lambda c, t, uid, jobs: commit_and_run(
        c,
        t,
        jobs,
        c.application.extensions["provisioning"],
        preview(c, t, "email,role\nmia@example.edu,learner\n")["id"],
    ),
}


def _scim_put_inactive(client, tenant, uid):
    user = client.get(f"/scim/v2/Users/{uid}", headers=tenant.scim).json
    user.pop("meta", None)
    r = client.put(f"/scim/v2/Users/{uid}", json={**user, "active": False}, headers=tenant.scim)
    assert r.status_code == 200, r.json
    return r


EXPECTED = {
    "admin API: demoted": "Your role has changed",
    "batch action: change role": "Your role has changed",
    "user import: demoted": "Your role has changed",
    "batch action: delete": "Your account no longer exists",
    "SCIM: DELETE": "Your account no longer exists",
}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_the_next_ui_request_after_the_person_is_deactivated_deleted_or_demoted_is_refused(
    rt, app, client, tenant, platform, run_jobs, channel
):
    register_platform(rt, tenant.id, platform)
    make_user(rt, tenant.id, "mia", email="mia@example.edu", role="manager")
    landing = launch(client, platform, sub="mia", roles=[INSTRUCTOR], email="mia@example.edu", name="Mia")
    token = _token(landing)
    uid = _user_id(rt, tenant.id, "mia@example.edu")
    assert client.get("/ui/groups").status_code == 200

    CHANNELS[channel](app.test_client(), tenant, uid, run_jobs)

    refused = client.get("/ui/groups")
    assert refused.status_code == 401, _text(refused)
    assert EXPECTED.get(channel, "Your account is deactivated") in _text(refused)
    # Every way of carrying the token is refused, and the LTI landing page too.
    assert app.test_client().get("/ui/groups", headers={"X-Launch-Token": token}).status_code == 401
    assert app.test_client().get("/ui/groups", query_string={"lt": token}).status_code == 401
    assert app.test_client().get("/lti/home", query_string={"lt": token}).status_code == 401
    # Restoring the person does not revive the ended session.
    if "deactivate" in channel or "active false" in channel:
        assert (
            app.test_client().patch(f"/api/v1/users/{uid}", json={"active": True}, headers=tenant.admin).status_code
            == 200
        )
    elif "role" in channel or "demoted" in channel:  # the old role back
        app.test_client().patch(f"/api/v1/users/{uid}", json={"role": "manager"}, headers=tenant.admin)
    assert app.test_client().get("/ui/groups", headers={"X-Launch-Token": token}).status_code == 401


def test_sign_out_ends_the_session_on_the_server_and_a_replayed_token_fails(app, client, rt, tenant, platform):
    register_platform(rt, tenant.id, platform)
    token = _token(launch(client, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example"))
    page = _text(client.get("/ui/groups"))
    form = re.search(r'<form method="post" action="/ui/signout"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'id="signout"' in form.group(1)  # in the page header, a POST form with its CSRF token
    fields = _hidden(form.group(1))
    # Without the page's CSRF token nobody is signed out.
    assert client.post("/ui/signout", data={"lt": token}).status_code == 403
    assert client.get("/ui/groups").status_code == 200

    out = client.post("/ui/signout", data=fields)
    assert out.status_code == 200 and "You have signed out" in _text(out)
    assert _cookie(client) is None
    for replay in (
        lambda b: b.get("/ui/groups", query_string={"lt": token}),
        lambda b: b.get("/ui/groups", headers={"X-Launch-Token": token}),
        lambda b: b.post("/ui/groups/new", data={**fields, "name": "After", "kind": "manual"}),
        lambda b: b.get("/lti/home", query_string={"lt": token}),
    ):
        r = replay(app.test_client())
        assert r.status_code == 401, _text(r)
    cookie_replay = app.test_client()
    cookie_replay.set_cookie(COOKIE, token)
    r = cookie_replay.get("/ui/groups")
    assert r.status_code == 401 and "signed out" in _text(r).lower()


def test_a_sign_in_link_of_another_tenant_names_the_session_it_would_replace(rt, client, two_tenants, platform):
    from provisioning.services.signin_links import issue_signin_link

    launch(client, platform, sub="ann", roles=[ADMINISTRATOR], email="ann@a.example", name="Ann Admin")
    _tenant, other = two_tenants
    page = _text(client.get(issue_signin_link(rt, other.id).replace("http://localhost", "")))
    warning = re.search(r'id="signin-switch">(.*?)</p>', page, re.S).group(1)
    assert "Ann Admin" in warning and "Acme University" in warning and "Other College" in warning
