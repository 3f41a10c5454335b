"""``provisioning lti ...``: register, list, name and revoke platforms; rotate the tool key; invite an LMS.

The CLI module wires these in with ``register(cli)``.
"""

from __future__ import annotations

from datetime import timedelta

import click

from provisioning.lti import registration_invites as invites
from provisioning.lti.keys import rotate_key
from provisioning.lti.registrations import (
    UNKNOWN_DEPLOYMENT_POLICIES,
    list_registrations,
    name_registration,
    register_platform,
    revoke_registration,
    tenant_lti_settings,
    update_lti_settings,
)
from provisioning.services.tenants import get_tenant
from provisioning.settings_catalog import MANAGER_PERMISSIONS
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
    @click.option("--name", default=None, help='What people call this LMS, e.g. "Moodle production".')
    @pass_state
    def register_cmd(
        state,
        tenant,
        issuer,
        client_id,
        auth_login_url,
        auth_token_url,
        key_set_url,
        auth_audience,
        deployment_ids,
        name,
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
            name=name,
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
    @click.option(
        "--hours",
        type=int,
        default=invites.DEFAULT_HOURS,
        show_default=True,
        help=f"How long the link stays valid (at most {invites.MAX_HOURS}).",
    )
    @click.option(
        "--allow-host",
        "allow_hosts",
        multiple=True,
        metavar="HOST",
        help="An on-premise LMS host (name or IP address) the registration may reach on a private or "
        "loopback address (repeatable). Public addresses need no option.",
    )
    @click.option("--name", default=None, help="The name the registered LMS gets (e.g. 'Moodle production').")
    @pass_state
    def registration_url_cmd(state, tenant, hours, allow_hosts, name) -> None:
        """Print a single-use LTI Dynamic Registration link for TENANT (valid --hours hours)."""
        rt = state.runtime()
        click.echo(invites.issue_invite(rt, tenant, hours=hours, allow_hosts=allow_hosts, name=name))

    @lti.command("registrations")
    @click.argument("tenant")
    @pass_state
    def registrations_cmd(state, tenant) -> None:
        """List TENANT's registered LMSs (revoked ones too): id, state, name, issuer, client id."""
        rt = state.runtime()
        rows = list_registrations(rt, get_tenant(rt, tenant).id, include_revoked=True)
        if not rows:
            click.echo("No LMS is registered.")
        for reg in rows:
            status = f"revoked {reg.revoked_at:%Y-%m-%d %H:%M}Z" if reg.revoked_at else "active"
            click.echo(f"{reg.id}\t{status}\t{reg.name or '-'}\t{reg.issuer}\t{reg.client_id}")

    @lti.command("name")
    @click.argument("tenant")
    @click.argument("registration_id", type=int)
    @click.argument("name")
    @pass_state
    def name_cmd(state, tenant, registration_id, name) -> None:
        """Name TENANT's registration REGISTRATION_ID (see ``lti registrations``)."""
        reg = name_registration(state.runtime(), tenant, registration_id, name, cli_actor())
        click.echo(f"Registration {reg.id} ({reg.issuer}) is now named {reg.name!r}.")

    @lti.command("revoke")
    @click.argument("tenant")
    @click.argument("registration_id", type=int)
    @pass_state
    def revoke_cmd(state, tenant, registration_id) -> None:
        """Revoke TENANT's registration REGISTRATION_ID: its launches and roster syncs are refused from now on."""
        reg = revoke_registration(state.runtime(), tenant, registration_id, cli_actor())
        click.echo(f"Registration {reg.id} ({reg.issuer} client {reg.client_id}) is revoked.")
