"""``provisioning lti ...``: register a platform, rotate the tool key, print a dynamic-registration link.

The CLI module wires these in with ``register(cli)``.
"""

from __future__ import annotations

from datetime import timedelta

import click

from provisioning.lti.keys import rotate_key
from provisioning.lti.registrations import (
    MANAGER_PERMISSIONS,
    UNKNOWN_DEPLOYMENT_POLICIES,
    register_platform,
    tenant_lti_settings,
    update_lti_settings,
)
from provisioning.services.tenants import get_tenant
from provisioning.signed_tokens import issue_invite
from server.cli_common import cli_actor, pass_state


def register(cli: click.Group) -> None:
    """Add the ``lti`` command group to the ``provisioning`` CLI."""

    @cli.group()
    def lti() -> None:
        """LTI 1.3 platform registrations and the tool's keys."""

    @lti.command("register")
    @click.argument("tenant")
    @click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://canvas.instructure.com")
    @click.option("--client-id", required=True, help="The client id the platform gave the tool.")
    @click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
    @click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
    @click.option("--key-set-url", required=True, help="The platform's JWKS URL.")
    @click.option("--auth-audience", default=None, help="The token endpoint's audience, when not its URL.")
    @click.option(
        "--deployment-id", "deployment_ids", multiple=True, metavar="DEP", help="A deployment id (repeatable)."
    )
    @pass_state
    def register_cmd(
        state, tenant, issuer, client_id, auth_login_url, auth_token_url, key_set_url, auth_audience, deployment_ids
    ) -> None:
        """Register an LMS (issuer + client id) with TENANT (its id or slug)."""
        reg = register_platform(
            state.runtime(),
            tenant,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            key_set_url=key_set_url,
            deployment_ids=deployment_ids,
            auth_audience=auth_audience,
            actor=cli_actor(),
        )
        click.echo(
            f"Registered {reg.issuer} client {reg.client_id} (registration {reg.id}) with "
            f"{len(deployment_ids)} deployment(s)."
        )

    @lti.command("settings")
    @click.argument("tenant")
    @click.option(
        "--admin-role",
        "admin_roles",
        multiple=True,
        metavar="URI",
        help="A system or institution role that makes a launching person a tenant admin (repeatable; "
        "replaces the list).",
    )
    @click.option("--no-admin-roles", is_flag=True, help="No LMS role makes a tenant admin.")
    @click.option("--unknown-deployments", type=click.Choice(UNKNOWN_DEPLOYMENT_POLICIES), default=None)
    @click.option("--roster-sync-max-age-minutes", type=click.IntRange(min=0), default=None)
    @click.option(
        "--manager-permission",
        "manager_permissions",
        multiple=True,
        type=click.Choice(MANAGER_PERMISSIONS),
        help="What course managers may do (repeatable; replaces the list).",
    )
    @pass_state
    def settings_cmd(
        state,
        tenant,
        admin_roles,
        no_admin_roles,
        unknown_deployments,
        roster_sync_max_age_minutes,
        manager_permissions,
    ) -> None:
        """Show TENANT's LTI settings; with options, change them first."""
        if admin_roles and no_admin_roles:
            raise click.UsageError("Give --admin-role or --no-admin-roles, not both.")
        changes: dict = {}
        if admin_roles or no_admin_roles:
            changes["admin_roles"] = list(admin_roles)
        if unknown_deployments is not None:
            changes["unknown_deployments"] = unknown_deployments
        if roster_sync_max_age_minutes is not None:
            changes["roster_sync_max_age_minutes"] = roster_sync_max_age_minutes
        if manager_permissions:
            changes["manager_permissions"] = list(manager_permissions)
        rt = state.runtime()
        settings = update_lti_settings(rt, tenant, changes, cli_actor()) if changes else tenant_lti_settings(rt, tenant)
        for name, value in settings.as_json().items():
            shown = ", ".join(value) if isinstance(value, list) else value
            click.echo(f"{name}: {shown if shown != '' else '(none)'}")

    @lti.command("rotate-key")
    @click.option(
        "--grace-hours",
        type=click.IntRange(min=0),
        default=48,
        show_default=True,
        help="How long the old key stays published in the JWKS.",
    )
    @pass_state
    def rotate_key_cmd(state, grace_hours: int) -> None:
        """Add a new tool signing key; keep the old one published for the grace period."""
        kid, retired = rotate_key(state.runtime(), grace=timedelta(hours=grace_hours))
        click.echo(f"New key {kid} is active; {len(retired)} old key(s) stay published for {grace_hours} hours.")

    @lti.command("registration-url")
    @click.argument("tenant")
    @pass_state
    def registration_url_cmd(state, tenant) -> None:
        """Print the LTI Dynamic Registration URL for TENANT (valid 7 days)."""
        from urllib.parse import urlencode

        rt = state.runtime()
        found = get_tenant(rt, tenant)
        invite = issue_invite(rt.settings.secret_key, found.id)
        click.echo(f"{rt.settings.public_base_url}/lti/register?{urlencode({'invite': invite})}")
