"""Fix a preview before committing it: rename a group, drop rows, emails or single members.

Each edit is one UPDATE over the staged rows; the preview numbers are then recomputed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import affected, id_in
from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key
from provisioning.imports.formats import FORMATS
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.imports.validate import validate_staged
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime

EXCLUDED = N_("Excluded from the import before commit.")


def update_import(rt: Runtime, tenant_id: int, import_id: int, changes: dict[str, Any], actor: Actor) -> Import:
    """Apply preview edits: ``rename_groups`` {old: new}, ``exclude_rows`` [row numbers],
    ``exclude_emails`` [emails], ``exclude_members`` [{group, email}]."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        if imp.status != "previewed":
            raise Conflict(
                N_("Import %(import_id)s was already committed; it can't be edited."),
                field="status",
                import_id=import_id,
            )
        problems: dict[str, list[str]] = {}
        for old, new in (changes.get("rename_groups") or {}).items():
            _rename(s, imp, old, new, problems)
        rows = sorted({int(r) for r in changes.get("exclude_rows") or ()})
        if rows:
            _check_rows_exist(s, imp, rows)
            _exclude(s, imp, id_in(s, ImportRow.row_no, rows))
        given = [e for e in changes.get("exclude_emails") or () if e and e.strip()]
        emails = sorted({identity_key(e) for e in given})
        if emails:
            staged = set(
                s.scalars(select(ImportRow.email).where(ImportRow.import_id == imp.id, ImportRow.email.in_(emails)))
            )
            for email in given:
                if identity_key(email) not in staged:
                    problems.setdefault("exclude_emails", []).append(
                        f"{email}: no row of this import has this email (exclude a row by its number instead)."
                    )
            _exclude(s, imp, ImportRow.email.in_(emails))
        for member in changes.get("exclude_members") or ():
            email, group = str(member.get("email", "")), str(member.get("group", "")).strip()
            pair = (ImportRow.email == identity_key(email)) & (
                func.lower(func.coalesce(ImportRow.group_name, imp.group_name or "")) == group.lower()
            )
            if not _exclude(s, imp, pair) and not s.scalar(
                select(func.count()).where(ImportRow.import_id == imp.id, pair)
            ):
                problems.setdefault("exclude_members", []).append(f"{email} in {group}: not a row of this import.")
        if problems:
            # Every edit names something the preview has, or none is made: a typo must not pass as done.
            raise InvalidInput(
                N_("Some edits name groups, people or rows that are not in this import; nothing was changed."),
                details=problems,
            )
        validate_staged(s, imp, (imp.summary or {}).get("email_header"))
        refresh_summary(s, imp)
        record(s, tenant_id, actor, "import.edited", "import", imp.id, {"changes": sorted(changes)})
    return imp


def _check_rows_exist(s: Session, imp: Import, rows: list[int]) -> None:
    """Refuse row numbers that are not rows of this preview: excluding them would silently do nothing."""
    found = set(
        s.scalars(
            select(ImportRow.row_no).where(ImportRow.import_id == imp.id, id_in(s, ImportRow.row_no, rows)).distinct()
        )
    )
    missing = [r for r in rows if r not in found]
    if not missing:
        return
    first, last = s.execute(
        select(func.min(ImportRow.row_no), func.max(ImportRow.row_no)).where(ImportRow.import_id == imp.id)
    ).one()
    rows_ = ", ".join(str(r) for r in missing[:20])
    if len(missing) > 20:
        template = N_(
            "Row(s) %(rows)s and %(more)s more are not rows of this preview (its data rows are %(first)s to %(last)s); "
            "nothing was changed."
        )
    else:
        template = N_(
            "Row(s) %(rows)s are not rows of this preview (its data rows are %(first)s to %(last)s); nothing was "
            "changed."
        )
    message = Message(template, rows=rows_, more=len(missing) - 20, first=first, last=last)
    raise InvalidInput(message, details={"exclude_rows": [message]})


def _rename(s: Session, imp: Import, old: str, new: str, problems: dict[str, list[str]]) -> None:
    new = (new or "").strip()
    if not new or len(new) > 400:
        problems.setdefault("rename_groups", []).append(f"{old}: the new name must have 1 to 400 characters.")
        return
    FORMATS[imp.format].rename_group(s, imp, old, new, problems)


def _exclude(s: Session, imp: Import, condition) -> int:
    """Exclude the matching rows still ok or in error; returns how many."""
    return affected(
        s.execute(
            update(ImportRow)
            .where(ImportRow.import_id == imp.id, ImportRow.status.in_(("ok", "error")), condition)
            .values(status="excluded", message=EXCLUDED)
            .execution_options(synchronize_session=False)
        )
    )
