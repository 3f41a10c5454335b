"""Registering platforms: the CLI, LTI Dynamic Registration, the tool's configuration documents."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import click
import pytest
from click.testing import CliRunner
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.lti.dynamic_registration import GENERIC_FAILURE
from provisioning.lti.registration_invites import MAX_HOURS, redeem_invite
from provisioning.lti.registrations import revoke_registration
from provisioning.models import LtiDeployment, LtiRegistration, Operation
from server.cli import CliState, _Group
from server.cli_lti import register as register_lti_commands
from tests.support.environment import TEST_DATABASE_URL
from tests.support.lti_platform import ADMINISTRATOR, dynamic_registration, invite_token, launch, register_platform


@click.group(cls=_Group)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The ``provisioning`` group as the CLI module builds it, with ``register(cli)`` wired in."""
    ctx.ensure_object(CliState)


register_lti_commands(cli)


def run(rt, *args: str):
    return CliRunner().invoke(cli, list(args), obj=CliState(runtime=rt))


def test_the_cli_registers_a_platform_with_several_deployments(rt, tenant):
    result = run(
        rt,
        "lti",
        "register",
        tenant.slug,
        "--issuer",
        "https://canvas.instructure.com",
        "--client-id",
        "10000000000042",
        "--auth-login-url",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "--auth-token-url",
        "https://sso.canvaslms.com/login/oauth2/token",
        "--key-set-url",
        "https://sso.canvaslms.com/api/lti/security/jwks",
        "--deployment-id",
        "dep-a",
        "--deployment-id",
        "dep-b",
    )
    assert result.exit_code == 0, result.output
    assert "2 deployment(s)" in result.output
    with rt.db.read() as s:
        reg = s.scalar(select(LtiRegistration))
        assert (reg.tenant_id, reg.client_id) == (tenant.id, "10000000000042")
        assert sorted(s.scalars(select(LtiDeployment.deployment_id))) == ["dep-a", "dep-b"]


def test_the_cli_says_which_url_is_wrong(rt, tenant):
    result = run(
        rt,
        "lti",
        "register",
        tenant.slug,
        "--issuer",
        "https://x",
        "--client-id",
        "c",
        "--auth-login-url",
        "not a url",
        "--auth-token-url",
        "https://x/token",
        "--key-set-url",
        "https://x/jwks",
    )
    assert result.exit_code == 1 and "auth_login_url" in result.output and "not a url" in result.output


def test_a_client_id_of_one_tenant_cannot_be_registered_to_another(rt, tenant, other_tenant):
    args = [
        "--issuer",
        "https://x",
        "--client-id",
        "c",
        "--auth-login-url",
        "https://x/a",
        "--auth-token-url",
        "https://x/t",
        "--key-set-url",
        "https://x/k",
    ]
    assert run(rt, "lti", "register", tenant.slug, *args).exit_code == 0
    result = run(rt, "lti", "register", other_tenant.slug, *args)
    assert result.exit_code == 1 and "another tenant" in result.output


def test_rotating_the_key_keeps_the_old_one_published_for_the_grace_period(rt, client):
    old = client.get("/lti/jwks").get_json()["keys"]
    assert len(old) == 1 and old[0]["alg"] == "RS256" and "d" not in old[0]  # never the private part
    result = run(rt, "lti", "rotate-key", "--grace-hours", "24")
    assert result.exit_code == 0, result.output
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(kids) == 2 and old[0]["kid"] in kids and kids[0] != old[0]["kid"]
    assert run(rt, "lti", "rotate-key", "--grace-hours", "0").exit_code == 0
    after = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    # The key retired with no grace is gone; the first one is still inside its 24 hours.
    assert kids[0] not in after and old[0]["kid"] in after and len(after) == 2


def test_the_canvas_configuration_points_at_our_endpoints(client):
    doc = client.get("/lti/config").get_json()
    assert doc["oidc_initiation_url"] == "http://localhost/lti/login"
    assert doc["target_link_uri"] == "http://localhost/lti/launch"
    assert doc["public_jwk_url"] == "http://localhost/lti/jwks"
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in doc["scopes"]
    assert doc["extensions"][0]["platform"] == "canvas.instructure.com"


def test_the_moodle_values_are_those_of_its_manual_setup_form(client):
    doc = client.get("/lti/config?platform=moodle").get_json()
    assert (
        doc["tool_url"] == "http://localhost/lti/launch" and doc["initiate_login_url"] == "http://localhost/lti/login"
    )
    assert doc["public_keyset"] == "http://localhost/lti/jwks" and doc["redirection_uris"] == [
        "http://localhost/lti/launch"
    ]


def test_the_cli_prints_a_dynamic_registration_link(rt, tenant):
    result = run(rt, "lti", "registration-url", tenant.slug)
    assert result.exit_code == 0 and result.output.startswith("http://localhost/lti/register?invite=")


@pytest.mark.parametrize("hours", ["0", "-1", str(MAX_HOURS + 1)])
def test_an_invite_lives_at_most_a_week(rt, tenant, hours):
    result = run(rt, "lti", "registration-url", tenant.slug, "--hours", hours)
    assert result.exit_code == 1 and f"between 1 and {MAX_HOURS} hours" in result.output


@pytest.mark.parametrize("host", ["http://lms.example", "lms.example:8443", "*.example", "lms.example/x"])
def test_an_allowed_host_is_a_host_name_or_address(rt, tenant, host):
    result = run(rt, "lti", "registration-url", tenant.slug, "--allow-host", host)
    assert result.exit_code == 1 and "--allow-host" in result.output


def _register(client, rt, tenant_id, platform, **options):
    """Dynamic registration with a new invite that allows the test platform's loopback address."""
    invite = invite_token(rt, tenant_id, allow_hosts=["127.0.0.1"], **options)
    return dynamic_registration(client, invite, f"{platform.url}/.well-known/openid-configuration")


def test_dynamic_registration_registers_and_stores_the_platform(rt, client, tenant, platform):
    resp = _register(client, rt, tenant.id, platform, name="Moodle test")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "org.imsglobal.lti.close" in resp.get_data(as_text=True)
    sent = platform.registrations[0]
    assert (
        sent["initiate_login_uri"] == "http://localhost/lti/login" and sent["jwks_uri"] == "http://localhost/lti/jwks"
    )
    with rt.db.read() as s:
        reg = s.scalar(select(LtiRegistration))
        assert (reg.tenant_id, reg.issuer, reg.client_id) == (tenant.id, platform.issuer, "dyn-client-1")
        assert reg.auth_token_url == f"{platform.url}/token" and reg.name == "Moodle test"
        assert s.scalar(select(LtiDeployment.deployment_id)) == "dyn-deployment-1"


def test_an_invite_registers_once_only(rt, client, tenant, platform):
    invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"])
    config = f"{platform.url}/.well-known/openid-configuration"
    assert dynamic_registration(client, invite, config).status_code == 200
    again = dynamic_registration(client, invite, config)
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)
    assert len(platform.registrations) == 1 and platform.requests.count("/.well-known/openid-configuration") == 1


def test_a_failed_registration_uses_the_invite_up_too(rt, client, tenant, platform):
    invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"])
    config = f"{platform.url}/.well-known/openid-configuration"
    assert dynamic_registration(client, invite, config, registration_token="wrong").status_code == 400
    again = dynamic_registration(client, invite, config)
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)
    assert platform.registrations == []


def test_opening_the_link_without_a_platform_keeps_the_invite(rt, client, tenant, platform):
    invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"])
    bare = client.get("/lti/register", query_string={"invite": invite})  # a link scanner, or a person
    assert bare.status_code == 400 and "openid_configuration" in bare.get_data(as_text=True)
    config = f"{platform.url}/.well-known/openid-configuration"
    assert dynamic_registration(client, invite, config).status_code == 200


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"), reason="row locks: PostgreSQL")
def test_two_concurrent_uses_of_an_invite_exactly_one_wins(rt, tenant):
    invite = invite_token(rt, tenant.id)
    start = threading.Barrier(4)
    outcomes = []

    def use():
        start.wait()
        outcomes.append(redeem_invite(rt, invite, Actor("test", "lti"))[1])

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "used", "used", "used"]


def test_an_expired_invite_is_refused(rt, client, tenant, platform, monkeypatch):
    signed_at = int(time.time()) - 3600 - 5
    with monkeypatch.context() as m:  # issued an hour and five seconds ago, for one hour
        m.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"], hours=1)
    resp = dynamic_registration(client, invite, f"{platform.url}/.well-known/openid-configuration")
    assert resp.status_code == 403 and "has expired" in resp.get_data(as_text=True)
    assert platform.requests == []


def test_an_invite_of_the_old_reusable_format_is_refused(rt, client, tenant, platform):
    old = URLSafeTimedSerializer(rt.settings.secret_key, salt="lti-dynamic-registration").dumps(
        {"tenant_id": tenant.id}
    )
    resp = dynamic_registration(client, old, f"{platform.url}/.well-known/openid-configuration")
    assert resp.status_code == 403 and platform.requests == []


def test_dynamic_registration_refuses_an_issuer_on_another_origin(rt, client, tenant, platform, caplog):
    for issuer in ("https://evil.example", platform.url.replace("http:", "https:"), platform.url + "0"):
        platform.config_issuer = issuer
        resp = _register(client, rt, tenant.id, platform)
        assert resp.status_code == 400 and GENERIC_FAILURE in resp.get_data(as_text=True)
        assert "evil.example" not in resp.get_data(as_text=True)
    assert platform.registrations == []
    assert "not on the configuration URL's origin" in caplog.text


@pytest.mark.parametrize("invite", ["", "forged"])
def test_dynamic_registration_needs_a_valid_invite(rt, client, tenant, platform, invite):
    resp = dynamic_registration(client, invite, f"{platform.url}/.well-known/openid-configuration")
    assert resp.status_code == 403 and "registration link" in resp.get_data(as_text=True)
    assert platform.requests == []


def test_dynamic_registration_reports_a_platform_that_refuses_generically(rt, client, tenant, platform, caplog):
    invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"])
    config = f"{platform.url}/.well-known/openid-configuration"
    resp = dynamic_registration(client, invite, config, registration_token="wrong")
    assert resp.status_code == 400 and GENERIC_FAILURE in resp.get_data(as_text=True)
    assert "401" not in resp.get_data(as_text=True) and "HTTP 401" in caplog.text


# --- the registered platforms: list, name, revoke -------------------------------------------------------------


def test_the_cli_lists_names_and_revokes_registrations(rt, tenant, other_tenant, platform):
    reg = register_platform(rt, tenant.id, platform)
    listed = run(rt, "lti", "registrations", tenant.slug)
    assert listed.exit_code == 0 and f"{reg.id}\tactive\t-\t{platform.issuer}\t{platform.client_id}" in listed.output
    named = run(rt, "lti", "name", tenant.slug, str(reg.id), "Moodle production")
    assert named.exit_code == 0, named.output
    assert "\tMoodle production\t" in run(rt, "lti", "registrations", tenant.slug).output
    assert run(rt, "lti", "revoke", other_tenant.slug, str(reg.id)).exit_code == 1  # another tenant's: not found
    revoked = run(rt, "lti", "revoke", tenant.slug, str(reg.id))
    assert revoked.exit_code == 0 and "is revoked" in revoked.output
    assert f"{reg.id}\trevoked " in run(rt, "lti", "registrations", tenant.slug).output
    assert "No LMS is registered." in run(rt, "lti", "registrations", other_tenant.slug).output


def test_the_api_lists_names_and_revokes_registrations(rt, client, tenant, other_tenant, platform):
    reg = register_platform(rt, tenant.id, platform)
    listed = client.get("/api/v1/lti/registrations", headers=tenant.admin).get_json()
    assert listed["total"] == 1 and [(r["id"], r["issuer"], r["status"], r["name"]) for r in listed["items"]] == [
        (reg.id, platform.issuer, "active", None)
    ]
    assert client.get("/api/v1/lti/registrations", headers=other_tenant.admin).get_json()["items"] == []
    url = f"/api/v1/lti/registrations/{reg.id}"
    assert client.patch(url, json={"name": "x"}, headers=other_tenant.admin).status_code == 404
    assert client.patch(url, json={"name": ""}, headers=tenant.admin).status_code == 400
    named = client.patch(url, json={"name": "Canvas"}, headers=tenant.admin)
    assert named.status_code == 200 and named.get_json()["name"] == "Canvas"
    assert client.post(f"{url}/revoke", headers=other_tenant.admin).status_code == 404
    revoked = client.post(f"{url}/revoke", headers=tenant.admin)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert (
        client.post(f"{url}/revoke", headers=tenant.admin).get_json()["revoked_at"] == revoked.get_json()["revoked_at"]
    )


def test_a_revoked_platform_can_no_longer_launch_nor_sync_its_roster(rt, client, tenant, platform, run_jobs):
    reg = register_platform(rt, tenant.id, platform)
    assert launch(client, platform, roles=[ADMINISTRATOR]).status_code == 200  # queues the course's roster sync
    # Another process revokes it (the CLI): this process's registration cache knows nothing of it.
    revoke_registration(replace(rt, extensions={}), tenant.id, reg.id, Actor("test", "cli"))
    refused = launch(client, platform, roles=[ADMINISTRATOR])
    assert refused.status_code == 403 and "revoked" in refused.get_data(as_text=True)
    sync = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin)
    assert sync.status_code == 403 and "revoked" in sync.get_json()["message"]
    run_jobs()  # the sync queued before the revocation stops before asking the platform for anything
    with rt.db.read() as s:
        op = s.scalar(select(Operation).where(Operation.type == "roster_sync"))
    assert op.status == "failed" and platform.member_requests == 0 and platform.token_requests == 0
