"""The batch actions, each declared once: everything else reads this registry.

A :class:`BatchAction` names the action, its label, its step (what it does to a chunk of
users, in :mod:`.steps`), its params (kinds in :mod:`.params`), whether it changes what
automatic group rules look at, and whether only admins may start it from the UI.  The
request's validation (:func:`validate_params`), the rule follow-up of the job, the admin API's
allowed values and documentation, and the UI's picker, labels and form fields all read
:data:`ACTIONS`; their order is the order of the UI's picker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from provisioning.batch import steps
from provisioning.batch.params import Param, validate
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.models import Tenant
from provisioning.services import invitations

TenantCheck = Callable[[Session, int], None]


@dataclass(frozen=True)
class BatchAction:
    """One batch action, declared once."""

    name: str  # the API's value of "action"
    label: str  # how the UI names it
    description: str  # one line: what it does
    step: steps.Step
    params: tuple[Param, ...] = ()
    touches_rule_inputs: bool = False  # changes what automatic group rules look at: they follow
    admin_only: bool = False  # a manager may not start it from the UI, even with the batch_actions permission
    downloadable: bool = False  # its result is a file to download (the API says where)
    tenant_check: TenantCheck | None = None  # raises InvalidInput when the tenant cannot run it now
    # Changes the person's whole account, not only their place in a group: a manager may start it only
    # on people wholly within their reach (provisioning.permissions.beyond_reach).
    account_wide: bool = False
    # Would end the acting user's own access if run on themselves: refused on oneself (own_access_refusal).
    ends_own_access: bool = False
    # What the logs call a run of it, in plain words ("Add a task to users"); else "<label> users".
    log_label: str = ""

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


def _tenant_link(setting: str, s: Session, tenant_id: int) -> None:
    """The tenant has set the link the action's emails carry (tenant.settings.<setting>)."""
    invitations.tenant_link(s.get_one(Tenant, tenant_id), setting, f"tenant.settings.{setting}")


def register(*actions: BatchAction) -> dict[str, BatchAction]:
    """The registry of ``actions``, by name, in the given order; a name may be declared once only."""
    registry: dict[str, BatchAction] = {}
    for action in actions:
        if action.name in registry:
            raise ValueError(f"The batch action {action.name!r} is declared twice.")
        if len(set(action.param_names)) != len(action.params):
            raise ValueError(f"The batch action {action.name!r} declares a param twice.")
        registry[action.name] = action
    return registry


ACTIONS: dict[str, BatchAction] = register(
    BatchAction(
        "deactivate",
        N_("Deactivate"),
        N_("Deactivate the users: their temporary data (invitations, open tasks, ...) goes, records stay."),
        steps.deactivate,
        touches_rule_inputs=True,
        account_wide=True,
        ends_own_access=True,
        log_label=N_("Deactivate users"),
    ),
    BatchAction(
        "reactivate",
        N_("Reactivate"),
        N_("Make deactivated users active again."),
        steps.reactivate,
        touches_rule_inputs=True,
        account_wide=True,
        log_label=N_("Reactivate users"),
    ),
    BatchAction(
        "delete",
        N_("Delete"),
        N_("Delete the users permanently, and everything they own."),
        steps.delete,
        admin_only=True,
        account_wide=True,
        ends_own_access=True,
        log_label=N_("Delete users"),
    ),
    BatchAction(
        "add_to_groups",
        N_("Add to groups"),
        N_("Add the users to hand-edited groups."),
        steps.add_to_groups,
        (Param("group_ids", "groups", N_("Groups")),),
        touches_rule_inputs=True,
        log_label=N_("Add users to groups"),
    ),
    BatchAction(
        "remove_from_group",
        N_("Remove from a group"),
        N_("Remove the users from a hand-edited group."),
        steps.remove_from_group,
        (Param("group_id", "group", N_("Group")),),
        touches_rule_inputs=True,
        log_label=N_("Remove users from a group"),
    ),
    BatchAction(
        "change_role",
        N_("Change role"),
        N_("Give the users one of the tenant's roles (built-in: learner, curator, manager, reporter, admin)."),
        steps.change_role,
        (Param("role", "role", N_("Role")),),
        touches_rule_inputs=True,
        admin_only=True,
        account_wide=True,
        ends_own_access=True,
        log_label=N_("Change users' role"),
    ),
    BatchAction(
        "change_language",
        N_("Change language"),
        N_("Set the users' language."),
        steps.change_language,
        (Param("language", "language", N_("Language"), hint="en"),),
        touches_rule_inputs=True,
        account_wide=True,
        log_label=N_("Change users' language"),
    ),
    BatchAction(
        "resend_invite",
        N_("Resend invite"),
        N_("Email invited users their invitation again."),
        steps.resend_invite,
        tenant_check=partial(_tenant_link, "join_url"),
        log_label=N_("Resend invitations"),
    ),
    BatchAction(
        "password_reset",
        N_("Password reset"),
        N_("Email active users a link to reset their password."),
        steps.password_reset,
        tenant_check=partial(_tenant_link, "password_reset_url"),
        account_wide=True,
        log_label=N_("Send password reset emails"),
    ),
    BatchAction(
        "notify",
        N_("Notification message"),
        N_("Send the users a notification (kept for invited users until they join)."),
        steps.notify,
        (
            Param("subject", "text", N_("Subject"), max_length=400),
            Param("body", "long_text", N_("Message"), max_length=20000),
        ),
        log_label=N_("Send users a notification"),
    ),
    BatchAction(
        "add_task",
        N_("Add task"),
        N_("Give the users who are not deactivated an open task, with an optional due date."),
        steps.add_task,
        (
            Param("title", "text", N_("Task"), max_length=400),
            Param("due_date", "date", N_("Due"), required=False),
        ),
        log_label=N_("Add a task to users"),
    ),
    BatchAction(
        "assign_certificate",
        N_("Assign certificate"),
        N_("Issue the users a certificate, dated."),
        steps.assign_certificate,
        (
            Param("name", "text", N_("Certificate"), max_length=400),
            Param("issued_on", "date", N_("Issued on")),
        ),
        log_label=N_("Assign users a certificate"),
    ),
    BatchAction(
        "share",
        N_("Share with a manager"),
        N_("Share the users with a manager, who may then see them."),
        steps.share,
        (Param("manager_id", "manager", N_("Manager")),),
        admin_only=True,
        log_label=N_("Share users with a manager"),
    ),
    BatchAction(
        "export_csv",
        N_("Export as CSV"),
        N_("Write the users' fields to a CSV file to download."),
        steps.export_csv,
        downloadable=True,
        log_label=N_("Export users as CSV"),
    ),
)


def check_action(action: str) -> str:
    """``action`` if it names a batch action; otherwise a 400 naming the known ones."""
    if action not in ACTIONS:
        raise InvalidInput(
            N_("Unknown action %(action)r."),
            details={"action": [Message(N_("Must be one of %(choices)s."), choices=", ".join(sorted(ACTIONS)))]},
            action=action,
        )
    return action


def own_access_refusal(action: str, actor_user_id: int | None, user_ids: Any) -> str | None:
    """Why ``action`` may not run on these users (the acting user is one of them and it would end their
    own access: deactivate, delete, change their own role), or None.  Checked in the core, so every
    channel whose actor is a user is covered; the batch job skips the actor in group and filter selections."""
    if actor_user_id is None or not ACTIONS[action].ends_own_access or actor_user_id not in set(user_ids):
        return None
    return OWN_ACCESS[action]


# The refusal of an action that would end the actor's own access, whole for each such action.
OWN_ACCESS = {
    "deactivate": N_("You may not deactivate yourself: it would end your own access."),
    "delete": N_("You may not delete yourself: it would end your own access."),
    "change_role": N_("You may not change role yourself: it would end your own access."),
}


def validate_params(s: Session, tenant_id: int, action: str, params: Any) -> dict[str, Any]:
    """Check an action's params before any work starts; a 400 names each bad param."""
    declared = ACTIONS[action]
    clean, errors = validate(s, tenant_id, action, declared.params, params)
    if declared.tenant_check is not None:
        try:
            declared.tenant_check(s, tenant_id)
        except InvalidInput as exc:
            errors.update(exc.details)
    if errors:
        raise InvalidInput(N_("The params of %(action)s are invalid."), details=errors, action=action)
    return clean
