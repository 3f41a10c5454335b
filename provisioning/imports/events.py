"""What applying an import tells the rest of the system: activity events and rule re-evaluation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_many
from provisioning.models import utcnow
from provisioning.models.imports import Import
from provisioning.rules import definition as rules
from provisioning.rules.references import ANY_CHANGE, Change
from provisioning.runtime import Runtime


def event_row(
    imp: Import, actor: Actor, action: str, object_type: str, object_id: Any, details: dict[str, Any]
) -> dict[str, Any]:
    """One ActivityEvent row for ``record_many``, tagged with the import it came from."""
    return {
        "tenant_id": imp.tenant_id,
        "actor": actor.name,
        "channel": actor.channel,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "details": {**details, "import_id": imp.id},
        "created_at": utcnow(),
    }


def reevaluate_rules(rt: Runtime, s: Session, tenant_id: int, user_ids: list[int], change: Change = ANY_CHANGE) -> None:
    """Let the automatic groups whose rules read what changed follow the users an import touched
    (in the chunk's own transaction)."""
    if user_ids:
        # Many users at once queue one evaluation of those users per dependent group instead of inline passes.
        rules.reevaluate_users(s, tenant_id, user_ids, rt=rt, change=change)


def record_member_events(s: Session, imp: Import, actor: Actor, action: str, pairs) -> None:
    """One event per (group id, user id) pair."""
    pairs = list(pairs)
    record_events(s, imp, actor, action, "group", [g for g, _ in pairs], user_id=[u for _, u in pairs])


def record_events(
    s: Session, imp: Import, actor: Actor, action: str, object_type: str, object_ids: list[Any], **details: list[Any]
) -> None:
    """One event per object id, its details from parallel lists (plus the import's id).

    On PostgreSQL one ``INSERT ... SELECT FROM unnest(arrays)``: a few arrays travel instead of a
    JSON document per event.  SQLite takes the rows.
    """
    if not object_ids:
        return
    if s.get_bind().dialect.name != "postgresql":
        record_many(
            s,
            (
                event_row(imp, actor, action, object_type, oid, {k: v[i] for k, v in details.items()})
                for i, oid in enumerate(object_ids)
            ),
        )
        return
    names = [f"d{i}" for i in range(len(details))]
    arrays = ", ".join(f"CAST(:{n} AS {_array_type(values)})" for n, values in zip(names, details.values()))
    pairs = "".join(f"'{key}', p.{n}, " for key, n in zip(details, names))
    s.execute(
        text(
            "INSERT INTO activity_events (tenant_id, actor, channel, action, object_type, object_id, details, created_at) "
            f"SELECT :t, :actor, :channel, :action, :otype, p.oid::text, jsonb_build_object({pairs}'import_id', "
            f"CAST(:imp AS bigint)), :now FROM unnest(CAST(:oids AS {_array_type(object_ids)}){', ' if arrays else ''}"
            f"{arrays}) AS p(oid{''.join(', ' + n for n in names)})"
        ),
        {
            "t": imp.tenant_id,
            "actor": actor.name,
            "channel": actor.channel,
            "action": action,
            "otype": object_type,
            "imp": imp.id,
            "now": utcnow(),
            "oids": list(object_ids),
            **dict(zip(names, map(list, details.values()))),
        },
    )


def _array_type(values: list[Any]) -> str:
    return "bigint[]" if all(isinstance(v, int) for v in values if v is not None) else "text[]"
