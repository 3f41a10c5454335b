"""What the UI's batch-action pickers offer, and the confirmation's words, for one principal.

The pickers offer only what the action's validation (:mod:`.params`) and the UI's permission checks
would accept: hand-edited groups the principal may change and active people who may manage groups (for
Share, an admin-only action), both searched by name (:mod:`.pickers`), the service's languages and the
user roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioning import permissions, pickers
from provisioning.permissions import Principal
from provisioning.runtime import Runtime
from provisioning.settings_catalog import LANGUAGES
from provisioning.tenant_roles import BUILTIN_ROLES, list_roles

EXAMPLES = 5  # people named on the confirmation


@dataclass(frozen=True)
class BatchChoices:
    """The fixed lists of the batch pickers; groups and managers are searched as people type
    (:mod:`provisioning.pickers`), as a tenant may have thousands."""

    may_share: bool  # someone can be chosen as the manager to share with (an admin's picker)
    languages: tuple[str, ...] = LANGUAGES
    roles: tuple[tuple[str, str], ...] = tuple((r.key, r.label) for r in BUILTIN_ROLES)  # the tenant's: (key, label)


def batch_choices(rt: Runtime, principal: Principal) -> BatchChoices:
    """The pickers' fixed options for ``principal``: whether anyone can be shared with, the tenant's roles."""
    with rt.db.read() as s:
        roles = tuple((r.key, r.label) for r in list_roles(s, principal.tenant_id))
    return BatchChoices(may_share=pickers.any_managers(rt, principal), roles=roles)


@dataclass(frozen=True)
class BatchSummary:
    """What the confirmation names: how many people, a few of them, and the params' objects by name."""

    count: int
    examples: list[str]
    groups: list[str]
    manager: str | None


def batch_summary(rt: Runtime, principal: Principal, user_ids: list[int], params: dict) -> BatchSummary:
    """The names the confirmation of a batch action on ``user_ids`` with ``params`` shows."""
    group_ids = set(params.get("group_ids") or []) | ({params["group_id"]} if params.get("group_id") else set())
    manager_id = params.get("manager_id")
    wanted = set(sorted(user_ids)[: EXAMPLES * 4]) | ({manager_id} if manager_id else set())
    names = permissions.names_in_scope(rt, principal, wanted, group_ids)
    examples = [names.users[u] for u in sorted(user_ids) if u in names.users and u != manager_id][:EXAMPLES]
    if len(examples) < EXAMPLES:
        examples = [names.users[u] for u in sorted(user_ids) if u in names.users][:EXAMPLES]
    return BatchSummary(
        count=len(user_ids),
        examples=examples,
        groups=sorted((names.groups[g] for g in group_ids if g in names.groups), key=str.lower),
        manager=names.users.get(manager_id) if manager_id else None,
    )
