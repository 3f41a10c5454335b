"""``provisioning rules evaluate [--tenant T]``: the periodic full re-evaluation of automatic groups.

Incremental re-evaluation follows every change to a user; this catches whatever was
missed.  Run it from cron, e.g. every night::

    15 3 * * *  provisioning rules evaluate

By default the evaluations run in this process (no worker needed); ``--enqueue`` hands
them to the RQ workers instead.
"""

from __future__ import annotations

import click

from server.cli_common import cli_actor, pass_state


def register(cli: click.Group) -> None:
    """Add the ``rules`` command group to the ``provisioning`` CLI."""

    @cli.group()
    def rules() -> None:
        """Automatic groups: re-evaluate their rules."""

    @rules.command("evaluate")
    @click.option("--tenant", "tenant_ref", default=None, help="Tenant id or slug (default: every tenant).")
    @click.option("--enqueue", is_flag=True, help="Queue the evaluations for the workers instead of running them here.")
    @pass_state
    def rules_evaluate(state, tenant_ref: str | None, enqueue: bool) -> None:
        """Fully re-evaluate every automatic group (of one tenant, or of all)."""
        from jobs.runner import execute
        from provisioning.models import Group, Operation
        from provisioning.rules import definition as rule_service
        from provisioning.services.tenants import load_tenant

        rt = state.job_runtime() if enqueue else state.runtime()
        tenant_id = None
        if tenant_ref is not None:
            with rt.db.read() as s:
                tenant_id = load_tenant(s, tenant_ref).id
        op_ids = rule_service.evaluate_all(rt, cli_actor(), tenant_id)
        if enqueue:
            click.echo(f"Queued {len(op_ids)} evaluation(s): operations {', '.join(map(str, op_ids)) or '-'}")
            return
        failed = 0
        for op_id in op_ids:
            try:
                status = execute(rt, op_id)
            except Exception:  # noqa: BLE001 - recorded on the Operation; report and go on with the others
                status = "failed"
            with rt.db.read() as s:
                op = s.get(Operation, op_id)
                group = s.get(Group, op.params["group_id"])
                name = group.name if group is not None else f"#{op.params['group_id']}"
            result = op.result or {}
            detail = (
                (op.errors or [{}])[0].get("message", "")
                if status == "failed"
                else f"+{result.get('added', 0)} -{result.get('removed', 0)}"
            )
            failed += status == "failed"
            click.echo(f"{name}: {status} {detail}".rstrip())
        click.echo(f"Evaluated {len(op_ids)} automatic group(s); {failed} failed.")
        if failed:
            raise click.exceptions.Exit(1)
