"""``provisioning ui-link TENANT``: a one-time, expiring sign-in link to the UI as the tenant's owner."""

from __future__ import annotations

import click

from provisioning.services.signin_links import issue_signin_link
from server.cli_common import pass_state


def register(cli: click.Group) -> None:
    """Add the ``ui-link`` command to the ``provisioning`` CLI."""

    @cli.command("ui-link")
    @click.argument("tenant")
    @pass_state
    def ui_link(state, tenant: str) -> None:
        """Print a sign-in link to the UI for TENANT (id or slug): open it and press Sign in; valid once, for 15 minutes."""
        click.echo(issue_signin_link(state.runtime(), tenant))
        # The link alone on stdout (scripts read it); the how-to on stderr.
        click.echo(
            "Open it in a browser and press Sign in: it works once, within 15 minutes "
            "(opening it only shows the page, so link scanners don't use it up).",
            err=True,
        )
