"""The parameters of batch actions: their kinds, and one generic validation that reads them.

A :class:`Param` says what a value must be (its kind, whether it is required, its length
limit) and how the UI asks for it (its label and hint).  :func:`validate` checks a request's
params against an action's declared params before any work starts; a 400 names each bad
param as ``params.<name>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import USER_ROLES, Enrollment, User
from provisioning.roles import COURSE_MANAGER_ROLES
from provisioning.store.groups import load_group
from provisioning.store.members import ensure_hand_editable
from provisioning.tenant_roles import find_role, unknown_role

# BCP 47 language tags, loosely (RFC 5646 §2.1): "en", "pt-BR", "zh-Hant-TW".
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

ParamKind = Literal["text", "long_text", "date", "group", "groups", "role", "language", "manager"]
"""What a param's value is:

* ``text``, ``long_text``: a non-empty text of at most ``max_length`` characters, kept stripped
  (a long text is asked for in a text area);
* ``date``: a date as YYYY-MM-DD (``required=False``: may be left out or empty);
* ``group``: the id of a hand-editable group of the tenant;
* ``groups``: a non-empty list of ids of hand-editable groups (kept sorted, without repeats);
* ``role``: one of the user roles;
* ``language``: a language tag such as en or pt-BR;
* ``manager``: the id of an active user who may manage groups (role manager or admin, or an
  instructor of a course).
"""

ID_KINDS: frozenset[str] = frozenset({"group", "manager"})  # a single integer id
ID_LIST_KINDS: frozenset[str] = frozenset({"groups"})  # a list of integer ids

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Param:
    """One parameter of a batch action."""

    name: str
    kind: ParamKind
    label: str  # how a form asks for it ("Due")
    required: bool = True
    max_length: int | None = None  # text kinds only
    hint: str = ""  # a placeholder showing an example value

    @property
    def choices(self) -> tuple[str, ...]:
        """The values a form offers to pick from (none: typed in)."""
        return USER_ROLES if self.kind == "role" else ()

    @property
    def is_id(self) -> bool:
        return self.kind in ID_KINDS

    @property
    def is_id_list(self) -> bool:
        return self.kind in ID_LIST_KINDS


def _key(param: Param) -> str:
    return f"params.{param.name}"


def _text(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    if not isinstance(value, str) or not value.strip():
        errors[_key(param)] = [N_("Required: a non-empty text.")]
        return ""
    if param.max_length is not None and len(value) > param.max_length:
        errors[_key(param)] = [Message(N_("At most %(most)s characters."), most=param.max_length)]
    return value.strip()


def _date(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    if value in (None, "") and not param.required:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        errors[_key(param)] = [N_("Must be a date as YYYY-MM-DD.")]
        return None


def _an_id(param: Param, value: Any, errors: Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[_key(param)] = [N_("Required: an integer id.")]
        return None
    return value


def _hand_editable_group(s: Session, tenant_id: int, group_id: int, param: Param, errors: Errors) -> None:
    try:
        ensure_hand_editable(load_group(s, tenant_id, group_id))
    except NotFound:
        errors.setdefault(_key(param), []).append(Message(N_("No group with id %(group_id)s."), group_id=group_id))
    except Conflict as exc:  # an automatic group
        errors.setdefault(_key(param), []).append(exc.message)


def _group(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    group_id = _an_id(param, value, errors)
    if group_id is not None:
        _hand_editable_group(s, tenant_id, group_id, param, errors)
    return group_id


def _groups(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(g, int) and not isinstance(g, bool) for g in value)
    ):
        errors[_key(param)] = [N_("Required: a non-empty list of group ids.")]
        return None
    group_ids = sorted(set(value))
    for group_id in group_ids:
        _hand_editable_group(s, tenant_id, group_id, param, errors)
    return group_ids


def _role(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    role = find_role(s, tenant_id, value) if isinstance(value, str) else None
    if role is None:
        errors[_key(param)] = [unknown_role(s, tenant_id, value)]
        return value
    return role.key


def _language(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    if not isinstance(value, str) or not LANGUAGE_TAG.match(value):
        errors[_key(param)] = [N_("Must be a language tag such as en or pt-BR.")]
    return value


def teaches(s: Session, tenant_id: int, user_id: int) -> bool:
    """An LTI Instructor or TA of some course manages groups (permissions) whatever their user role."""
    return bool(
        s.scalar(
            select(
                exists().where(
                    Enrollment.tenant_id == tenant_id,
                    Enrollment.user_id == user_id,
                    Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
                    Enrollment.status != "dropped",
                )
            )
        )
    )


def _manager(s: Session, tenant_id: int, param: Param, value: Any, errors: Errors) -> Any:
    manager_id = _an_id(param, value, errors)
    if manager_id is None:
        return None
    manager = s.scalar(select(User).where(User.id == manager_id, User.tenant_id == tenant_id))
    if manager is None:
        errors[_key(param)] = [Message(N_("No user with id %(manager_id)s."), manager_id=manager_id)]
    elif manager.status == "deactivated" or not (
        manager.role in ("manager", "admin") or teaches(s, tenant_id, manager_id)
    ):
        errors[_key(param)] = [
            N_("Must be an active user with the role manager or admin, or an instructor of a course.")
        ]
    return manager_id


Check = Callable[[Session, int, Param, Any, Errors], Any]

CHECKS: dict[str, Check] = {
    "text": _text,
    "long_text": _text,
    "date": _date,
    "group": _group,
    "groups": _groups,
    "role": _role,
    "language": _language,
    "manager": _manager,
}
"""For each kind: check a value (adding to the errors), returning the value to keep (None when bad)."""


def validate(
    s: Session, tenant_id: int, action: str, declared: tuple[Param, ...], params: Any
) -> tuple[dict[str, Any], Errors]:
    """Check ``params`` against the ``declared`` params of ``action``: (the clean params, the errors).

    A param not declared is refused; each declared one is checked by its kind, in declared order.
    The clean params are meaningful only when there are no errors.
    """
    if not isinstance(params, dict):
        raise InvalidInput(N_("params must be an object."), details={"params": [N_("Must be an object.")]})
    names = {p.name for p in declared}
    errors: Errors = {f"params.{k}": [f"Not a parameter of {action}."] for k in params if k not in names}
    clean: dict[str, Any] = {}
    for param in declared:
        clean[param.name] = CHECKS[param.kind](s, tenant_id, param, params.get(param.name), errors)
    return clean, errors
