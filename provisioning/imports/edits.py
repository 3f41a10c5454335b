"""Fix a preview before committing it: rename a group, drop rows, emails or single members.

Each edit is one UPDATE over the staged rows; the preview numbers are then recomputed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import id_in
from provisioning.errors import Conflict, InvalidInput
from provisioning.identity_keys import identity_key
from provisioning.imports.formats import FORMATS
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.imports.validate import validate_staged
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime

EXCLUDED = "Excluded from the import before commit."


def update_import(rt: Runtime, tenant_id: int, import_id: int, changes: dict[str, Any], actor: Actor) -> Import:
    """Apply preview edits: ``rename_groups`` {old: new}, ``exclude_rows`` [row numbers],
    ``exclude_emails`` [emails], ``exclude_members`` [{group, email}]."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        if imp.status != "previewed":
            raise Conflict(f"Import {import_id} was already committed; it can't be edited.", field="status")
        problems: dict[str, list[str]] = {}
        for old, new in (changes.get("rename_groups") or {}).items():
            _rename(s, imp, old, new, problems)
        rows = sorted({int(r) for r in changes.get("exclude_rows") or ()})
        if rows:
            _check_rows_exist(s, imp, rows)
            _exclude(s, imp, id_in(s, ImportRow.row_no, rows))
        emails = [identity_key(e) for e in changes.get("exclude_emails") or () if e and e.strip()]
        if emails:
            _exclude(s, imp, ImportRow.email.in_(emails))
        for member in changes.get("exclude_members") or ():
            _exclude(
                s,
                imp,
                (ImportRow.email == identity_key(str(member.get("email", ""))))
                & (
                    func.lower(func.coalesce(ImportRow.group_name, imp.group_name or ""))
                    == str(member.get("group", "")).strip().lower()
                ),
            )
        if problems:
            raise InvalidInput("Some edits name groups that are not in this import.", details=problems)
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
    shown = ", ".join(str(r) for r in missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
    message = f"Row(s) {shown} are not rows of this preview (its data rows are {first} to {last}); nothing was changed."
    raise InvalidInput(message, details={"exclude_rows": [message]})


def _rename(s: Session, imp: Import, old: str, new: str, problems: dict[str, list[str]]) -> None:
    new = (new or "").strip()
    if not new or len(new) > 400:
        problems.setdefault("rename_groups", []).append(f"{old}: the new name must have 1 to 400 characters.")
        return
    FORMATS[imp.format].rename_group(s, imp, old, new, problems)


def _exclude(s: Session, imp: Import, condition) -> None:
    s.execute(
        update(ImportRow)
        .where(ImportRow.import_id == imp.id, ImportRow.status.in_(("ok", "error")), condition)
        .values(status="excluded", message=EXCLUDED)
        .execution_options(synchronize_session=False)
    )
