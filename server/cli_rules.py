"""``provisioning rules evaluate [--tenant T]``: the periodic full re-evaluation of automatic groups.

Incremental re-evaluation follows every change to a user; this catches whatever was
missed.  Run it from cron, e.g. every night::

    15 3 * * *  provisioning rules evaluate

By default the evaluations run in this process (no worker needed); ``--enqueue`` hands
them to the RQ workers instead.
"""

from __future__ import annotations

import click

from provisioning.rules.definition import evaluate_all
from provisioning.rules.evaluation import evaluation_report
from provisioning.services.tenants import get_tenant
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
        from jobs.runner import execute  # not at the top: it loads the metrics (see server/serving.py)

        rt = state.job_runtime() if enqueue else state.runtime()
        tenant_id = get_tenant(rt, tenant_ref).id if tenant_ref is not None else None
        op_ids = evaluate_all(rt, cli_actor(), tenant_id)
        if enqueue:
            click.echo(f"Queued {len(op_ids)} evaluation(s): operations {', '.join(map(str, op_ids)) or '-'}")
            return
        failed = 0
        for op_id in op_ids:
            try:
                status = execute(rt, op_id)
            except Exception:  # noqa: BLE001 - recorded on the Operation; report and go on with the others
                status = "failed"
            report = evaluation_report(rt, op_id)
            detail = report.error if status == "failed" else f"+{report.added} -{report.removed}"
            failed += status == "failed"
            click.echo(f"{report.group_name}: {status} {detail}".rstrip())
        click.echo(f"Evaluated {len(op_ids)} automatic group(s); {failed} failed.")
        if failed:
            raise click.exceptions.Exit(1)
