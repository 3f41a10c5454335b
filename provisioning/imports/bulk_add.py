"""Bulk add members from the members template into one group: a background Operation ("Bulk add
members" in the user action log, with its progress), each row handled as one added by email.

A manager's rows follow the rule of provisioning/services/group_invitations.py: people already in their
scope join at once, anyone else (another course's person, an address nobody has) is invited to the
group and joins on accepting.  Which addresses were in scope is settled when the file is accepted (the
edge passes the manager's scope), so the job needs no permission model; the Operation's result gives
how many rows were done, never who was which.  An admin's rows all join (an unknown address becomes an
invited person, who gets the group's invitation email).
"""

from __future__ import annotations

from typing import IO, Any

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.identity_keys import identity_key
from provisioning.imports.reading import read_table
from provisioning.models import Operation, User
from provisioning.operations import save_progress, start_operation
from provisioning.runtime import Runtime
from provisioning.services import group_enrollments
from provisioning.services.group_invitations import add_known, clean_email, find_by_email, invite
from provisioning.store.groups import load_group
from provisioning.store.members import ensure_hand_editable

OPERATION_TYPE = "members_bulk_add"
MAX_ROWS = 2000
CHUNK = 50
# The template's column (provisioning/imports/formats/members.py) and the names people give it.
EMAIL_HEADERS = ("email address", "email", "e-mail", "mail")


def _key(cell: str) -> str:
    return " ".join(cell.strip().lower().replace("_", " ").split())


def email_column(header: list[str]) -> int | None:
    """The index of the email column of a header row, or None."""
    keys = [_key(h) for h in header]
    return next((keys.index(k) for k in EMAIL_HEADERS if k in keys), None)


def read_addresses(stream: IO[bytes], filename: str | None) -> list[str]:
    """The file's addresses, in order, each once; a 400 naming every row without a usable address."""
    table = read_table(stream, filename, max_rows=MAX_ROWS, is_header=lambda cells: email_column(cells) is not None)
    col = email_column(table.header)
    if col is None:
        raise InvalidInput(
            N_("The file has no email_address column: download the template, fill it in and upload it unchanged."),
            details={"file": [N_("No email_address column.")]},
        )
    emails: dict[str, str] = {}
    problems: list[str] = []
    for row_no, cells in table.rows:
        value = cells[col].strip() if col < len(cells) else ""
        if not any(c.strip() for c in cells):
            continue
        try:
            address = clean_email(value)
        except InvalidInput:
            problems.append(
                f"Row {row_no}: {value[:80]!r} is not an email address."
                if value
                else f"Row {row_no}: no email address."
            )
            continue
        emails.setdefault(identity_key(address), address)
    if problems:
        raise InvalidInput(
            N_(
                "Some rows have no usable email address, so nothing was changed. Correct them and upload the file "
                "again."
            ),
            details={"file": problems[:100]},
        )
    if not emails:
        raise InvalidInput(
            N_("The file lists nobody: add one email address per row."), details={"file": [N_("No rows.")]}
        )
    return list(emails.values())


def request_bulk_add(
    rt: Runtime,
    tenant_id: int,
    group_id: int,
    stream: IO[bytes],
    filename: str | None,
    actor: Actor,
    *,
    users_within: Any = None,
) -> Operation:
    """Read the members template and start the Operation that adds or invites each row's person
    (``users_within``: the manager's scope, a SELECT of user ids; None for an admin)."""
    emails = read_addresses(stream, filename)
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id)
        ensure_hand_editable(group)
        in_scope: list[str] | None = None
        if users_within is not None:
            keys = {identity_key(e): e for e in emails}
            found = s.scalars(
                select(User.email_key).where(
                    User.tenant_id == tenant_id, User.email_key.in_(sorted(keys)), User.id.in_(users_within)
                )
            )
            in_scope = sorted(keys[k] for k in found if k in keys)
        params = {
            "group_id": group.id,
            "emails": emails,
            "in_scope": in_scope,
            "actor": actor.name,
            "channel": actor.channel,
            "actor_user_id": actor.user_id,
        }
        return start_operation(s, rt, tenant_id, OPERATION_TYPE, params, actor, total=len(emails))


def bulk_add_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """Add or invite the next chunk of addresses; a re-run redoes nothing (members are inserted once,
    and a repeated invitation only renews its link)."""
    at = int(checkpoint.get("at", 0))
    emails = list(params.get("emails") or [])
    if at >= len(emails):
        return None
    actor = Actor(params.get("actor", "system"), params.get("channel", "job"), params.get("actor_user_id"))
    in_scope = params.get("in_scope")
    direct = None if in_scope is None else {identity_key(e) for e in in_scope}
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, int(params["group_id"]))
        ensure_hand_editable(group)
        added: list[int] = []
        for address in emails[at : at + CHUNK]:
            known = find_by_email(s, tenant_id, address)
            if direct is None and known is not None:
                joined = known if add_known(s, group, known, actor) else None  # an admin's row
            elif direct is None:
                new = invite(s, rt, group, address, actor, operation_id=operation_id)
                joined = new if new is not None and add_known(s, group, new, actor) else None
            elif known is not None and identity_key(address) in direct:
                joined = known if add_known(s, group, known, actor) else None
            else:
                joined = None
                invite(s, rt, group, address, actor, operation_id=operation_id)
            if joined is not None:
                added.append(joined)
        # The chunk's new members in the group's courses, when the admin turned it on: one INSERT ... SELECT.
        group_enrollments.enroll_added_members(s, rt, tenant_id, group.id, added, actor, operation_id=operation_id)
        done = min(at + CHUNK, len(emails))
        save_progress(s, operation_id, done=done, checkpoint={"at": done}, result={"rows_read": done})
    return {"at": done} if done < len(emails) else None
