"""``provisioning roles list|create|delete --tenant T``: a tenant's roles (provisioning/tenant_roles.py)."""

from __future__ import annotations

import click

from provisioning.services import roles
from provisioning.services.tenants import get_tenant
from server.cli_common import cli_actor, pass_state


def register(cli: click.Group) -> None:
    """Add the ``roles`` command group to the ``provisioning`` CLI."""

    @cli.group("roles")
    def roles_group() -> None:
        """Tenant roles: the built-in ones and a tenant's own."""

    tenant_option = click.option("--tenant", "tenant_ref", required=True, help="Tenant id or slug.")

    @roles_group.command("list")
    @tenant_option
    @pass_state
    def roles_list(state, tenant_ref: str) -> None:
        """Every role of the tenant: key, name, how many people have it, permissions."""
        rt = state.runtime()
        for role in roles.list_tenant_roles(rt, get_tenant(rt, tenant_ref).id):
            kind = "built-in" if role.builtin else "custom"
            perms = "courses taught: the manager permissions" if role.course_scoped else ", ".join(role.permissions)
            click.echo(f"{role.key}\t{role.label}\t{kind}\t{role.people} people\t{perms or '-'}")

    @roles_group.command("create")
    @tenant_option
    @click.argument("label")
    @click.option("--description", default="", help="What the role is for.")
    @click.option("--permission", "perms", multiple=True, help="A permission to grant (repeat the option).")
    @click.option("--key", default=None, help="The role's key (default: made from its name).")
    @pass_state
    def roles_create(state, tenant_ref: str, label: str, description: str, perms: tuple[str, ...], key) -> None:
        """Create a custom role named LABEL."""
        rt = state.runtime()
        values = {"label": label, "description": description, "permissions": list(perms)}
        if key:
            values["key"] = key
        role = roles.create_role(rt, get_tenant(rt, tenant_ref).id, values, cli_actor())
        click.echo(f"Created role {role.label} ({role.key}): {', '.join(role.permissions) or 'no permissions'}")

    @roles_group.command("delete")
    @tenant_option
    @click.argument("key")
    @pass_state
    def roles_delete(state, tenant_ref: str, key: str) -> None:
        """Delete the custom role KEY (refused while people have it)."""
        rt = state.runtime()
        roles.delete_role(rt, get_tenant(rt, tenant_ref).id, key, cli_actor())
        click.echo(f"Deleted role {key}.")
