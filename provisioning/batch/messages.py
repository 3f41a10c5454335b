"""Messages to a group: every member gets the email, sent by a background Operation.

The job reuses the batch-action chunk engine (keyset chunks over the group's
members); each chunk renders its emails and adds them to the outbox in one INSERT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from provisioning.activity import Actor
from provisioning.batch.actions import chunk_size, run_chunk
from provisioning.batch.steps import Outcome, StepContext
from provisioning.db import id_in
from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.mail.outbox import queue_emails
from provisioning.mail.templates import greeting_name, recipient_language, render
from provisioning.models import Membership, Operation, Tenant, User
from provisioning.operations import start_operation
from provisioning.runtime import Runtime
from provisioning.settings_catalog import stored
from provisioning.store.groups import load_group

OPERATION_TYPE = "group_message"


def request_group_message(
    rt: Runtime, tenant_id: int, group_id: int, subject: str, body: str, actor: Actor
) -> Operation:
    """Start an Operation that emails ``subject``/``body`` to every member of the group."""
    errors: dict[str, list[str]] = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 400:
        errors["subject"] = [N_("Required, at most 400 characters.")]
    if not body or len(body) > 20000:
        errors["body"] = [N_("Required, at most 20000 characters.")]
    if errors:
        raise InvalidInput(N_("The message is incomplete."), details=errors)
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        total = s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == group.id))
        return start_operation(
            s,
            rt,
            tenant_id,
            OPERATION_TYPE,
            {
                "action": "message",
                "params": {"subject": subject, "body": body},
                "selection": {"group_id": group.id},
                "chunk_size": chunk_size(rt),
                "actor": actor.name,
                "channel": actor.channel,
            },
            actor,
            total=total,
        )


def email_members(ctx: StepContext, ids: list[int]) -> Outcome:
    """Queue the message for the chunk's members who are active or invited and have an email."""
    tenant_name, tenant_settings = ctx.s.execute(
        select(Tenant.name, Tenant.settings).where(Tenant.id == ctx.tenant_id)
    ).one()
    default_language = stored(tenant_settings, "default_language")
    users = ctx.s.execute(
        select(User.id, User.email, User.given_name, User.display_name, User.username, User.status, User.language)
        .where(User.tenant_id == ctx.tenant_id, id_in(ctx.s, User.id, ids))
        .order_by(User.id)
    ).all()
    recipients = [u for u in users if u.status != "deactivated" and u.email]
    queue_emails(
        ctx.s,
        ctx.rt,
        ctx.tenant_id,
        (
            (
                u.id,
                u.email,
                render(
                    "message",
                    {
                        "tenant_name": tenant_name,
                        "name": greeting_name(u),
                        "subject": ctx.params["subject"],
                        "body": ctx.params["body"],
                        "sender": ctx.actor.name,
                    },
                    language=recipient_language(u.language, default_language),
                ),
            )
            for u in recipients
        ),
        "message",
        operation_id=ctx.operation_id,
    )
    sent = [u.id for u in recipients]
    ctx.events(sent, "user.messaged", subject=ctx.params["subject"])
    failed = [(u.id, N_("The user has no email address.")) for u in users if u.status != "deactivated" and not u.email]
    deactivated = sum(1 for u in users if u.status == "deactivated")
    return Outcome(sent, {"deactivated": deactivated} if deactivated else {}, failed)


def group_message_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """Queue the message for the next chunk of members; None when every member has it."""
    return run_chunk(rt, operation_id, tenant_id, params, checkpoint, email_members)
