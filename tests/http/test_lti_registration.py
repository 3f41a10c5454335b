"""Registering platforms: the CLI, LTI Dynamic Registration, the tool's configuration documents."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from provisioning.models import LtiDeployment, LtiRegistration
from provisioning.signed_tokens import issue_invite
from server.cli import CliState, _Group
from server.cli_lti import register as register_lti_commands


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


def _register(client, rt, tenant_id, platform, **extra):
    query = {
        "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        "registration_token": "reg-token-1",
        "invite": issue_invite(rt.settings.secret_key, tenant_id),
        **extra,
    }
    return client.get("/lti/register", query_string=query)


def test_dynamic_registration_registers_and_stores_the_platform(rt, client, tenant, platform):
    resp = _register(client, rt, tenant.id, platform)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "org.imsglobal.lti.close" in resp.get_data(as_text=True)
    sent = platform.registrations[0]
    assert (
        sent["initiate_login_uri"] == "http://localhost/lti/login" and sent["jwks_uri"] == "http://localhost/lti/jwks"
    )
    with rt.db.read() as s:
        reg = s.scalar(select(LtiRegistration))
        assert (reg.tenant_id, reg.issuer, reg.client_id) == (tenant.id, platform.issuer, "dyn-client-1")
        assert reg.auth_token_url == f"{platform.url}/token"
        assert s.scalar(select(LtiDeployment.deployment_id)) == "dyn-deployment-1"


def test_dynamic_registration_refuses_an_issuer_on_another_host(rt, client, tenant, platform):
    platform.config_issuer = "https://evil.example"
    resp = _register(client, rt, tenant.id, platform)
    assert resp.status_code == 400 and "evil.example" in resp.get_data(as_text=True)
    assert platform.registrations == []


@pytest.mark.parametrize("invite", ["", "forged"])
def test_dynamic_registration_needs_a_valid_invite(rt, client, tenant, platform, invite):
    resp = _register(client, rt, tenant.id, platform, invite=invite)
    assert resp.status_code == 403 and "registration link" in resp.get_data(as_text=True)


def test_dynamic_registration_reports_a_platform_that_refuses(rt, client, tenant, platform):
    resp = _register(client, rt, tenant.id, platform, registration_token="wrong")
    assert resp.status_code == 400 and "refused the registration" in resp.get_data(as_text=True)
