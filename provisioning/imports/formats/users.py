"""The users format: one user per row (email, username, names, role, ... custom attributes), created or updated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, exists, func, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key, refusal
from provisioning.imports import users_apply
from provisioning.imports.formats import group_target
from provisioning.imports.formats.base import ImportFormat, NamedGroup
from provisioning.imports.formats.columns import EMAIL, Layout, default_target, norm
from provisioning.imports.formats.entries import MAX_LENGTH, Entry, email_of, error
from provisioning.imports.marks import mark_staged, same_email
from provisioning.models import USER_ROLES, Group, Tenant, User
from provisioning.models.imports import STAGED_USER_FIELDS, Import, ImportRow
from provisioning.runtime import Runtime
from provisioning.store.users import count_seats
from provisioning.tenant_roles import builtin_key, list_roles, role_key_for


class UsersFormat(ImportFormat):
    name = "users"
    example_header = ("email", "username", "first_name", "last_name", "role", "language", "department")
    example_rows = (
        ("ada@example.com", "ada", "Ada", "Lovelace", "learner", "en", "Research"),
        ("alan@example.com", "alan", "Alan", "Turing", "manager", "en-GB", "Research"),
    )
    detect_priority = 4
    staged_columns = (*STAGED_USER_FIELDS, "username_key", "custom_attributes")
    applied_messages = ("Created (status invited).", "Updated.")
    # With group_id: bulk add into that group (create the new people as invited, add everyone, invite the
    # new ones); see provisioning.imports.formats.group_target.
    takes_group_target = True

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        return any(k in EMAIL for k in keys)

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        """Known headers map to user attributes; others need an entry in ``mapping``.

        ``mapping`` maps a header (as written) to an attribute name, to ``custom.<name>`` for a
        custom attribute, or to null / "" to ignore the column.
        """
        layout = Layout("users", len(header), header)
        by_norm = {norm(k): (v or None) for k, v in mapping.items()}
        unknown = []
        for i, h in enumerate(header):
            key = norm(h)
            if not key:
                continue
            target = by_norm[key] if key in by_norm else default_target(key, h, custom)
            if target is None and key in by_norm:
                layout.warnings.append(
                    Message(N_("Column %(column)r was ignored, as the column mapping asks."), column=h)
                )
                continue
            if target is None:
                unknown.append(h)
            elif target == "email":
                layout.email_col = i
            elif target.startswith("custom."):
                layout.custom_cols[target[len("custom.") :]] = i
            elif target in STAGED_USER_FIELDS:
                layout.user_cols[target] = i
            else:
                raise InvalidInput(
                    N_("The column mapping sends %(column)r to %(target)r, which is not a user attribute."),
                    details={
                        "column_mapping": [
                            Message(
                                N_(
                                    "%(column)s: must be one of email, %(choices)s, custom.<name>, or null to ignore "
                                    "the column."
                                ),
                                column=h,
                                choices=", ".join(STAGED_USER_FIELDS),
                            )
                        ]
                    },
                    column=h,
                    target=target,
                )
        if unknown:
            raise InvalidInput(
                N_(
                    "Unknown column(s) %(columns)s. Map each to a user attribute, to custom.<name>, or to null to "
                    "ignore it, with column_mapping."
                ),
                details={
                    "file": [f"Unknown column {u!r}." for u in unknown],
                    "column_mapping": [
                        Message(N_("Known attributes: email, %(choices)s."), choices=", ".join(STAGED_USER_FIELDS))
                    ],
                },
                columns=", ".join(repr(u) for u in unknown),
            )
        if layout.email_col is None:
            raise self.file_error(N_("The header has no 'email' column."))
        return layout

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        assert layout.email_col is not None
        email, err = email_of(layout, row_no, cells[layout.email_col], layout.email_col)
        if err:
            return [err]
        # ``value`` keeps the email as written: a created user gets it with its case.
        entry: Entry = {
            "row_no": row_no,
            "status": "ok",
            "email": email,
            "value": cells[layout.email_col].replace(" ", ""),
        }
        for name, col in layout.user_cols.items():
            value = cells[col]
            if not value:
                continue
            if name == "role":
                # A built-in role by key or name; any other key is the tenant's to know (checked when staged).
                value = builtin_key(value) or value.strip().lower()
                if value != role_key_for(value):
                    return [
                        error(
                            row_no,
                            layout.header[col],
                            cells[col],
                            Message(
                                N_("The role must be the key of one of the tenant's roles, such as %(choices)s."),
                                choices=", ".join(USER_ROLES),
                            ),
                            email=email,
                        )
                    ]
            if len(value) > MAX_LENGTH.get(name, 10_000):
                return [
                    error(
                        row_no,
                        layout.header[col],
                        value,
                        Message(N_("At most %(most)s characters."), most=MAX_LENGTH[name]),
                        email=email,
                    )
                ]
            if name == "username":
                if problem := refusal(value, mid_sentence=True):
                    return [
                        error(
                            row_no,
                            layout.header[col],
                            value,
                            Message(N_("The username %(problem)s"), problem=problem),
                        )
                    ]
                entry["username_key"] = identity_key(value)
            entry[name] = value
        custom = {name: cells[col] for name, col in layout.custom_cols.items() if cells[col]}
        if custom:
            entry["custom_attributes"] = custom
        return [entry]

    def target_group(
        self, s: Session, tenant_id: int, imp: Import, *, group_id: int | None, group_name: str | None
    ) -> None:
        if group_name:
            raise InvalidInput(
                N_("A users file goes into an existing group: create the group first and give its group_id."),
                details={"group_name": [N_("Not with the users format; give group_id.")]},
            )
        if group_id:
            imp.group_id = group_target.load_target(s, tenant_id, group_id).id

    # --- staged checks -------------------------------------------------------------------------

    def other_duplicates(self) -> list[tuple[Any, str, Any]]:
        # Two rows may not give one username (by its identity key) to two users.
        return [(ImportRow.username_key, N_("this username"), ImportRow.username)]

    def mark_staged(self, s: Session, imp: Import, email_header: str | None, *, just_staged: bool) -> None:
        if not just_staged:
            _re_resolve_users(s, imp)
        taken = exists().where(
            User.tenant_id == imp.tenant_id,
            User.username_key == ImportRow.username_key,
            func.coalesce(User.email_key, "") != ImportRow.email,
        )
        mark_staged(
            s,
            imp.id,
            and_(ImportRow.username.is_not(None), taken),
            N_("Another user already has this username."),
            "username",
            ImportRow.username,
        )
        columns = (imp.summary or {}).get("columns", {})
        if columns.get("role"):
            keys = [r.key for r in list_roles(s, imp.tenant_id)]
            mark_staged(
                s,
                imp.id,
                and_(ImportRow.role.is_not(None), ImportRow.role.not_in(keys)),
                Message(
                    N_("There is no role with this key in this tenant; its roles are: %(choices)s."),
                    choices=", ".join(keys),
                ),
                columns["role"],
                ImportRow.role,
            )
        username_header = columns.get("username")
        if imp.group_id and username_header:
            # The bulk add template: "A username and email are required" (for a person it creates).
            mark_staged(
                s,
                imp.id,
                and_(ImportRow.user_id.is_(None), ImportRow.username.is_(None)),
                N_("A username is required for a new user."),
                username_header,
            )

    # --- preview -------------------------------------------------------------------------------

    def summarize(self, s: Session, imp: Import, summary: dict[str, Any], *, groups: bool) -> None:
        live = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(("ok", "applied", "skipped")))
        new = s.scalar(select(func.count(distinct(ImportRow.email))).where(live, ImportRow.user_id.is_(None))) or 0
        summary.update(users_new=new, users_updated=summary["users_matched"], groups=[], groups_total=0)
        limit = s.scalar(select(Tenant.seat_limit).where(Tenant.id == imp.tenant_id))
        warnings = [w for w in summary.get("warnings", []) if not w.startswith("Seat limit:")]
        if limit is not None and count_seats(s, imp.tenant_id) + new > limit:
            warnings.append(
                Message(
                    N_(
                        "Seat limit: this import creates %(new)s users but the tenant has %(left)s of its %(seats)s "
                        "seats left."
                    ),
                    new=new,
                    left=max(limit - count_seats(s, imp.tenant_id), 0),
                    seats=limit,
                )
            )
        summary["warnings"] = warnings
        if imp.group_id:
            summary["bulk_add"] = True  # kept: the job invites the people it creates even if the group goes
            group_target.summarize_target(s, imp, summary, new_users=new)

    def named_groups(self, s: Session, imp: Import) -> list[NamedGroup]:
        if imp.group_id:
            name = s.scalar(select(Group.name).where(Group.id == imp.group_id))
            return [NamedGroup(name or str(imp.group_id), imp.group_id, None)]
        return []

    def rename_group(self, s: Session, imp: Import, old: str, new: str, problems: dict[str, list[str]]) -> None:
        problems.setdefault("rename_groups", []).append("The users format names no groups.")

    # --- apply ---------------------------------------------------------------------------------

    def check_commit(self, s: Session, imp: Import, summary: dict[str, Any]) -> None:
        users_apply.check_seats_for(s, imp, summary["users_new"])
        if imp.group_id:
            group_target.check_target(s, imp, summary, new_users=summary["users_new"])

    def apply_chunk(
        self, rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], ok: int, actor: Actor
    ) -> dict[str, int]:
        counts = users_apply.apply_users_chunk(rt, s, imp, chunk, actor)
        if imp.group_id or (imp.summary or {}).get("bulk_add"):
            counts.update(group_target.add_chunk_to_group(rt, s, imp, chunk, actor))
        return counts


def _re_resolve_users(s: Session, imp: Import) -> None:
    """Follow users created or deleted since the preview (writes only the rows that changed)."""
    live = and_(ImportRow.import_id == imp.id, ImportRow.status == "ok")
    user = select(User.id).where(User.tenant_id == imp.tenant_id, same_email(User)).scalar_subquery()
    s.execute(
        update(ImportRow)
        .where(
            live,
            ImportRow.user_id.is_not(None),
            ~exists().where(User.id == ImportRow.user_id, User.tenant_id == imp.tenant_id),
        )
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )
    s.execute(
        update(ImportRow)
        .where(live, ImportRow.user_id.is_(None), exists().where(User.tenant_id == imp.tenant_id, same_email(User)))
        .values(user_id=user)
        .execution_options(synchronize_session=False)
    )
