"""The ``provisioning`` command: serve, worker, db upgrade, tenants, tokens, demo, catalogs.

Commands are thin: they parse options, call one service, and print the result.
Domain and configuration errors become a one-line message on stderr and a non-zero
exit code (1 for a refused request, 2 for a setup problem), never a traceback.

Tests call :func:`main` (or invoke :data:`cli` through click's CliRunner) with
``obj=CliState(runtime=...)`` or ``CliState(env={...})`` instead of the process environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from provisioning import migrate
from provisioning.config import ConfigurationError
from provisioning.errors import DomainError
from provisioning.observability.logs import configure_logging
from provisioning.runtime import Runtime
from provisioning.services.demo import seed_demo
from provisioning.services.signin_links import issue_signin_link
from provisioning.services.tenant_settings import get_settings, update_settings
from provisioning.services.tenants import create_tenant, list_tenants
from provisioning.services.tokens import create_token, list_tokens, revoke_token
from provisioning.settings_catalog import KEYS, SettingErrors, parse_cli_value
from server import cli_catalogs, cli_lti, cli_roles, cli_rules, cli_ui
from server.cli_common import (
    CliState,
    CommandError,
    cli_actor,
    pass_state,
    prepare_database,
)
from server.serving import run_server, safe_url


class _Group(click.Group):
    """Turns the errors a person can fix into a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        from alembic.util import CommandError as MigrationError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from sqlalchemy.exc import DBAPIError

        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise CommandError(_describe(exc)) from exc
        except ConfigurationError as exc:
            raise CommandError(str(exc), exit_code=2) from exc
        except DBAPIError as exc:
            first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            raise CommandError(f"Database error: {first_line}", exit_code=2) from exc
        except MigrationError as exc:
            raise CommandError(f"Migration error: {exc}", exit_code=2) from exc
        except RedisConnectionError as exc:
            raise CommandError(f"Cannot reach Redis: {exc}", exit_code=2) from exc


def _describe(exc: DomainError) -> str:
    lines = [exc.message]
    if isinstance(exc.details, dict):
        lines += [
            f"  {field}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
            for field, msgs in exc.details.items()
        ]
    return "\n".join(lines)


@click.group(
    cls=_Group,
    help="Group provisioning for learning platforms: run the service and its job "
    "workers, migrate the database, manage tenants and API tokens.",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.ensure_object(CliState)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in containers).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Web worker processes (with REDIS_URL; default 2). Without REDIS_URL always 1.",
)
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True, help="Threads per worker process.")
@pass_state
def serve(state: CliState, host: str, port: int, workers: int | None, threads: int) -> None:
    """Run the web service (gunicorn where available, else Flask's server)."""
    settings = state.settings
    prepare_database(settings)
    in_process = not settings.redis_url
    if in_process and workers and workers > 1:
        click.echo(
            "Jobs run inside the web process (no REDIS_URL), so it runs as 1 worker process; "
            f"using {threads} threads for concurrency.",
            err=True,
        )
    count = 1 if in_process else (workers or 2)
    run_server(settings, host=host, port=port, workers=count, threads=threads)


@cli.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--queue", "queues", multiple=True, metavar="NAME", help="Queue to listen on (default: QUEUE_NAME).")
@pass_state
def worker(state: CliState, burst: bool, queues: tuple[str, ...]) -> None:
    """Run background jobs from RQ (needs REDIS_URL)."""
    rt = state.job_runtime()
    rt.queue.ping()
    configure_logging(rt.settings.log_format, rt.settings.log_level)
    from jobs.worker import run_worker  # not at the top: it loads the metrics (see server/serving.py)

    run_worker(rt, burst=burst, queues=list(queues) or None)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Apply the migrations the database is missing."""
    settings = state.settings
    migrate.upgrade(settings.database_url, secret_key=settings.secret_key)
    click.echo(
        f"Database {safe_url(settings.database_url)} is at revision {', '.join(sorted(migrate.head_revisions()))}."
    )


@cli.group()
def tenants() -> None:
    """Create and list tenants, and show or change their settings."""


@tenants.command("create")
@click.argument("name")
@click.option("--seats", type=int, default=None, help="Seat limit (users who are not deactivated).")
@pass_state
def tenants_create(state: CliState, name: str, seats: int | None) -> None:
    """Create a tenant named NAME."""
    tenant = create_tenant(state.runtime(), name, seat_limit=seats)
    click.echo(f"Created tenant {tenant.name!r}\nid: {tenant.id}\nslug: {tenant.slug}")


@tenants.command("list")
@pass_state
def tenants_list(state: CliState) -> None:
    """List all tenants."""
    rows = [
        (t.id, t.slug, "-" if t.seat_limit is None else t.seat_limit, _when(t.created_at), t.name)
        for t in list_tenants(state.runtime())
    ]
    _table(("ID", "SLUG", "SEATS", "CREATED", "NAME"), rows)


@tenants.command(
    "settings",
    help="Show TENANT's settings (its id or slug); with --set/--unset, change them first. The keys: "
    + ", ".join(KEYS)
    + ".",
)
@click.argument("tenant")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a setting (repeatable). Lists (manager_permissions, admin_roles) are comma-separated or JSON; "
    "'key=' with a list key sets the empty list. On/off settings (enroll_added_members) take on or off. "
    'Role maps (scim_role_map, lti_role_map) take a JSON object, e.g. \'{"Faculty": "curator"}\'; "key=" empties it.',
)
@click.option("--unset", "unset", multiple=True, metavar="KEY", help="Put a setting back to its default (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_state
def tenants_settings(
    state: CliState, tenant: str, assignments: tuple[str, ...], unset: tuple[str, ...], as_json: bool
) -> None:
    changes: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(
                f"--set {assignment!r}: write KEY=VALUE, e.g. --set join_url=https://lms.example.edu"
            )
        try:
            changes[key.strip()] = parse_cli_value(key.strip(), value)
        except SettingErrors as exc:
            raise CommandError(str(exc)) from exc
    rt = state.runtime()
    if changes or unset:
        settings = update_settings(rt, tenant, changes, cli_actor(), unset=list(unset))
    else:
        settings = get_settings(rt, tenant)
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    _table(("KEY", "VALUE"), [(key, _setting_text(value)) for key, value in settings.items()])


def _setting_text(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    if isinstance(value, dict) and set(value) == {"used", "limit"}:  # seats
        return f"{value['used']} used of {'no limit' if value['limit'] is None else value['limit']}"
    if isinstance(value, dict):  # a role map
        return ", ".join(f"{k} -> {v}" for k, v in value.items()) if value else "(none)"
    return str(value)


@cli.group()
def tokens() -> None:
    """Create, list and revoke API tokens (only their hash is stored)."""


@tokens.command("create")
@click.argument("tenant")
@click.option("--scope", type=click.Choice(["scim", "admin"]), required=True)
@click.option("--name", default=None, help="A label to recognise the token by (default: '<scope> token').")
@pass_state
def tokens_create(state: CliState, tenant: str, scope: str, name: str | None) -> None:
    """Create a token for TENANT (id or slug); the token is printed once, on the last line."""
    token, plaintext = create_token(state.runtime(), tenant, scope, name)
    click.echo(
        f"Created {scope} token {token.id} ({token.name}) for tenant {token.tenant_id}. "
        "It is shown only now; store it safely:"
    )
    click.echo(plaintext)


@tokens.command("revoke")
@click.argument("token_id", type=int)
@pass_state
def tokens_revoke(state: CliState, token_id: int) -> None:
    """Revoke the token with id TOKEN_ID."""
    token = revoke_token(state.runtime(), token_id)
    click.echo(f"Revoked token {token.id} ({token.name}) of tenant {token.tenant_id}.")


@tokens.command("list")
@click.argument("tenant", required=False)
@pass_state
def tokens_list(state: CliState, tenant: str | None) -> None:
    """List tokens, of one TENANT (id or slug) or of all (never their secrets)."""
    rows = [
        (
            t.id,
            t.tenant_id,
            t.scope,
            f"{t.prefix}...",
            _when(t.created_at),
            _when(t.last_used_at),
            "revoked" if t.revoked_at else "active",
            t.name,
        )
        for t in list_tokens(state.runtime(), tenant)
    ]
    _table(("ID", "TENANT", "SCOPE", "PREFIX", "CREATED", "LAST USED", "STATUS", "NAME"), rows)


@cli.command()
@pass_state
def demo(state: CliState) -> None:
    """Create (or complete) a demo tenant with sample users and groups; print URLs and fresh tokens."""
    rt = state.runtime()
    result = seed_demo(rt, cli_actor())
    _, scim = create_token(rt, result.tenant_id, "scim", "demo scim")
    _, admin = create_token(rt, result.tenant_id, "admin", "demo admin")
    base = rt.settings.public_base_url
    click.echo(
        f"Demo tenant {result.tenant_slug!r} (id {result.tenant_id}): {result.users_total} users "
        f"({result.users_added} added now), groups: " + ", ".join(f"{name} ({n})" for name, n in result.groups.items())
    )
    click.echo(f"Admin API:     {base}/api/v1  (try: curl -H 'Authorization: Bearer {admin}' {base}/api/v1/groups)")
    click.echo(
        f"LTI 1.3:       tool configuration {base}/lti/config; "
        f"registration link: provisioning lti registration-url {result.tenant_slug}"
    )
    click.echo(
        f"UI sign-in:    {issue_signin_link(rt, result.tenant_id)}  (open it, press Sign in; works once, within 15 minutes)"
    )
    click.echo(f"SCIM base URL: {base}/scim/v2")
    click.echo(f"SCIM token:    {scim}")
    click.echo(f"Admin token:   {admin}")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


for _commands in (cli_catalogs, cli_lti, cli_roles, cli_rules, cli_ui):
    _commands.register(cli)


def main(
    args: Sequence[str] | None = None, *, runtime: Runtime | None = None, env: Mapping[str, str] | None = None
) -> None:
    """Console-script entry point; tests may pass a Runtime or an environment mapping."""
    cli.main(
        args=list(args) if args is not None else None, prog_name="provisioning", obj=CliState(runtime=runtime, env=env)
    )


if __name__ == "__main__":  # pragma: no cover - `python -m server.cli`
    main()
