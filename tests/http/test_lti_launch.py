"""End to end against lti1p3platform on loopback: login initiation -> launch -> landing, and refusals."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from provisioning.activity import Actor
from provisioning.models import Course, Enrollment, LtiDeployment, LtiUserLink, User
from provisioning.services import tenants, users
from tests.support.lti_platform import (
    ADMINISTRATOR,
    INSTRUCTOR,
    LEARNER,
    TA,
    launch,
    register_platform,
    start_login,
)


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_a_launch_from_the_platform_lands_and_links_user_course_and_enrollment(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform, sub="u-42", roles=[INSTRUCTOR], email="Pat@Example.edu")
    assert resp.status_code == 200, _text(resp)
    assert 'data-role="manager"' in _text(resp) and 'data-lti-role="Instructor"' in _text(resp)
    with rt.db.read() as s:
        user = s.scalar(select(User).where(User.tenant_id == tenant.id))
        assert user.email == "Pat@Example.edu" and user.last_login_at is not None
        link = s.scalar(select(LtiUserLink))
        assert (link.issuer, link.sub, link.user_id) == (platform.issuer, "u-42", user.id)
        course = s.scalar(select(Course).where(Course.tenant_id == tenant.id))
        assert (course.external_id, course.title) == ("course-101", "Course One")
        enrollment = s.scalar(select(Enrollment))
        assert (enrollment.user_id, enrollment.course_id, enrollment.role) == (user.id, course.id, "Instructor")


def test_a_launch_matches_an_existing_user_by_email_instead_of_creating_one(rt, client, tenant, platform):
    existing = users.create_user(rt, tenant.id, {"email": "kim@example.edu"}, Actor("test", "api"))
    register_platform(rt, tenant.id, platform)
    assert launch(client, platform, sub="k-1", email="KIM@example.edu", roles=[LEARNER]).status_code == 200
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id)) == 1
        assert s.scalar(select(LtiUserLink.user_id)) == existing.id
        assert s.get(User, existing.id).last_login_at is not None


def test_the_second_launch_of_a_user_reuses_the_link_even_when_the_email_changed(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    assert launch(client, platform, sub="u-1", email="a@example.edu").status_code == 200
    assert launch(client, platform, sub="u-1", email="b@example.edu").status_code == 200
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_roles_map_administrator_to_admin_ta_to_manager_and_learner_to_learner(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    for sub, roles, expected in (
        ("a", [ADMINISTRATOR, LEARNER], "admin"),
        ("t", [TA], "manager"),
        ("l", [LEARNER], "learner"),
    ):
        resp = launch(client, platform, sub=sub, roles=roles, email=f"{sub}@example.edu")
        assert f'data-role="{expected}"' in _text(resp)


def test_the_launch_token_opens_the_landing_page_without_any_cookie(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform)
    token = _text(resp).split('name="launch-token" content="')[1].split('"')[0]
    fresh = app.test_client()  # a browser that keeps no cookies
    assert 'data-role="manager"' in _text(fresh.get(f"/lti/home?lt={token}"))
    assert fresh.get("/lti/home", headers={"X-Launch-Token": token}).status_code == 200
    assert fresh.get("/lti/home?lt=" + token[:-2] + "xx").status_code == 401
    assert fresh.get("/lti/home").status_code == 401


def test_an_expired_launch_token_is_refused(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    token = _text(launch(client, platform)).split('name="launch-token" content="')[1].split('"')[0]
    rt.settings.lti_launch_token_seconds = 0
    time.sleep(1.1)
    assert app.test_client().get(f"/lti/home?lt={token}").status_code == 401


def test_behind_tls_the_cookies_are_samesite_none_secure_and_partitioned(rt, tenant, platform):
    from server.app import create_app

    rt.settings.trust_proxy = True
    app = create_app(runtime=rt)
    client = app.test_client()
    register_platform(rt, tenant.id, platform)
    url = platform.login_url("u-1").split(platform.url and "localhost", 1)[1]
    resp = client.get(url, headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost"})
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie


def test_without_the_state_cookie_the_launch_offers_to_open_in_a_new_window(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    auth = start_login(client, platform)
    form = platform.answer(auth, sub="u-1", roles=[INSTRUCTOR], email="p@example.edu")
    blocked = app.test_client()  # the browser dropped the tool's third-party cookie
    resp = blocked.post("/lti/launch", data=form)
    assert resp.status_code == 400
    assert "Open in a new window" in _text(resp) and "lti1p3_new_window=1" in _text(resp)
    assert "login_hint=user-1" in _text(resp) and 'target="_blank"' in _text(resp)


def test_a_login_from_an_unregistered_platform_is_refused_with_a_page(client, platform):
    resp = client.get(platform.login_url("u-1").split("localhost", 1)[1])
    assert resp.status_code == 403
    assert "not registered" in _text(resp) and "Traceback" not in _text(resp)
    assert resp.mimetype == "text/html"


def test_a_login_without_login_hint_is_a_clear_400(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = client.post("/lti/login", data={"iss": platform.issuer, "client_id": platform.client_id})
    assert resp.status_code == 400 and "login hint" in _text(resp)


def test_login_accepts_a_post_and_redirects_to_the_platform(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = client.post(
        "/lti/login",
        data={
            "iss": platform.issuer,
            "client_id": platform.client_id,
            "login_hint": "u-9",
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"{platform.url}/auth?")


def test_several_client_ids_of_one_issuer_belong_to_different_tenants(rt, client, make_tenant, platform):
    first, second = make_tenant("First"), make_tenant("Second")
    register_platform(rt, first.id, platform)
    platform.client_id = "tool-client-2"
    platform.conf._registration.set_client_id("tool-client-2")
    register_platform(rt, second.id, platform)
    assert launch(client, platform, sub="s-1").status_code == 200
    with rt.db.read() as s:
        assert s.scalar(select(User.tenant_id)) == second.id


def test_an_unknown_deployment_is_refused_by_default(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform, deployments=("another-deployment",))
    resp = launch(client, platform)
    assert resp.status_code == 403 and "deployment-1" in _text(resp) and "not registered" in _text(resp)


def test_an_unknown_deployment_is_recorded_when_the_tenant_says_so(rt, client, make_tenant, platform):
    tenant = tenants.create_tenant(rt, "Recording", settings={"lti": {"unknown_deployments": "record"}})
    register_platform(rt, tenant.id, platform, deployments=())
    assert launch(client, platform).status_code == 200
    with rt.db.read() as s:
        row = s.scalar(select(LtiDeployment))
        assert (row.deployment_id, row.status) == ("deployment-1", "recorded")


def test_an_invited_user_who_launches_joins_and_gets_the_notifications_kept_for_them(rt, client, tenant, platform):
    from provisioning.models import Notification
    from provisioning.services.notifications import notify_users

    invited = users.create_user(rt, tenant.id, {"email": "new@example.edu", "status": "invited"}, Actor("t", "api"))
    with rt.db.transaction() as s:
        notify_users(s, rt, tenant.id, [invited.id], "Welcome", "Your groups are ready.", "Admin")
    register_platform(rt, tenant.id, platform)
    assert launch(client, platform, sub="n-1", email="new@example.edu", roles=[LEARNER]).status_code == 200
    with rt.db.read() as s:
        assert s.get(User, invited.id).status == "active"
        assert s.scalar(select(Notification.delivered_at).where(Notification.user_id == invited.id)) is not None


def test_a_deactivated_user_is_refused_with_a_page(rt, client, tenant, platform):
    from provisioning.services import lifecycle

    gone = users.create_user(rt, tenant.id, {"email": "gone@example.edu"}, Actor("t", "api"))
    with rt.db.transaction() as s:
        lifecycle.deactivate_users(s, tenant.id, [gone.id], Actor("t", "api"))
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform, sub="g-1", email="gone@example.edu")
    assert resp.status_code == 403 and "deactivated" in resp.get_data(as_text=True)


def test_an_anonymous_launch_is_refused_with_a_page(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    auth = start_login(client, platform)
    message = platform.launch_message(auth, sub="x", roles=[LEARNER], email=None)
    del message["sub"]
    resp = client.post("/lti/launch", data={"id_token": platform.sign(message), "state": auth["state"]})
    assert resp.status_code in (400, 403) and "Traceback" not in resp.get_data(as_text=True)


def test_the_launch_token_gives_the_ui_a_principal_with_the_tenants_permission_set(rt, app, client, tenant, platform):
    from web.session import current_principal

    register_platform(rt, tenant.id, platform)
    token = _text(launch(client, platform, roles=[TA])).split('name="launch-token" content="')[1].split('"')[0]
    with app.test_request_context(f"/lti/home?lt={token}"):
        principal = current_principal()
    assert (principal.tenant_id, principal.role) == (tenant.id, "manager")
    assert "batch_actions" in principal.permissions
    with app.test_request_context("/lti/home"):
        assert current_principal() is None
