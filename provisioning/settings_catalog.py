"""Every tenant setting, declared once: its key, type, check, default, description and who may set it.

The admin API (``/api/v1/settings``, its OpenAPI schema is generated from :data:`CATALOG`), the CLI
(``provisioning tenants settings``) and the services that read a setting all go through here, so a
key, its wording and its check live in one place.  Values are stored in ``tenants.settings`` (JSON)
at each entry's ``path``; the LTI settings keep their historical place under ``settings["lti"]`` so
``/api/v1/lti/settings`` and ``provisioning lti settings`` read and write the same values.

No database here: :mod:`provisioning.services.tenant_settings` loads, changes and audits them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from provisioning.i18n import N_, Message
from provisioning.roles import CONTEXT, DEFAULT_ADMIN_ROLES, admin_role_set, parse_role
from provisioning.text import text_problem

# What a manager's permission set can grant (provisioning/permissions.py decides with it).
MANAGER_PERMISSIONS = (
    "view_users",
    "manage_users",
    "export",
    "message",
    "batch_actions",
    "view_activity",
    "upload",
    "create_groups",
)
# What managers may do unless the tenant says otherwise: everything but creating groups.
DEFAULT_MANAGER_PERMISSIONS = tuple(p for p in MANAGER_PERMISSIONS if p != "create_groups")

# The languages the service speaks (a tenant's default language is one of them): English and the
# languages with a catalog in provisioning/translations (tests/unit/test_catalogs.py keeps the two in
# agreement).  A user's own ``language`` may be any BCP 47 tag (from SCIM or an LMS); pages and emails
# use its primary subtag when it is one of these, else the tenant default, else English.
LANGUAGES = ("en", "de", "es")
DEFAULT_LANGUAGE = "en"

URL_MAX = 2000
NAME_MAX = 100
ROLE_MAP_MAX = 100  # entries of a role map
ROLE_VALUE_MAX = 200  # characters of an identity provider's role value

Kind = Literal["url", "text", "language", "permissions", "roles", "role_map", "seats", "flag"]


@dataclass(frozen=True)
class SettingSpec:
    """One tenant setting.  ``check`` turns a given value into the stored one or raises ValueError
    with a sentence saying what the value must be; read-only settings have none."""

    key: str
    kind: Kind
    description: str
    default: Any
    path: tuple[str, ...]
    check: Callable[[Any], Any] | None = None
    # Set by the service's operator (CLI ``tenants create --seats``), shown to admins, never changed by them.
    read_only: bool = False

    @property
    def is_list(self) -> bool:
        return self.kind in ("permissions", "roles")


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(N_("Must be an http(s) URL, as text."))
    value = value.strip()
    problem = text_problem(value)
    if problem:
        raise ValueError(Message(N_("The URL %(problem)s."), problem=problem))
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError(N_("Must be an http(s) URL such as https://lms.example.edu/login."))
    if len(value) > URL_MAX:
        raise ValueError(Message(N_("Must be at most %(most)s characters."), most=URL_MAX))
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(N_("Must be a non-empty text."))
    value = " ".join(value.split())  # one line: it becomes part of the From header
    problem = text_problem(value)
    if problem:
        raise ValueError(Message(N_("The text %(problem)s."), problem=problem))
    if len(value) > NAME_MAX:
        raise ValueError(Message(N_("Must be at most %(most)s characters."), most=NAME_MAX))
    return value


def _language(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in LANGUAGES:
        raise ValueError(Message(N_("Must be one of %(choices)s."), choices=", ".join(LANGUAGES)))
    return value.strip().lower()


def _permissions(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(Message(N_("Must be a list of: %(choices)s."), choices=", ".join(MANAGER_PERMISSIONS)))
    unknown = [p for p in value if p not in MANAGER_PERMISSIONS]
    if unknown:
        raise ValueError(
            Message(
                N_("Unknown permission %(permission)r; known: %(choices)s."),
                permission=unknown[0],
                choices=", ".join(MANAGER_PERMISSIONS),
            )
        )
    return sorted(set(value), key=MANAGER_PERMISSIONS.index)


FLAG_WORDS = {"true": True, "on": True, "yes": True, "1": True, "false": False, "off": False, "no": False, "0": False}


def _flag(value: Any) -> bool:
    """On or off: true or false (JSON), or as typed after ``--set key=``: on/off, yes/no, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    raise ValueError("Must be true or false.")


def _roles(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(N_("Must be a list of system or institution role URIs."))
    return list(admin_role_set(value))


def _role_map_shape(value: Any) -> list[tuple[str, str]]:
    """A role map's (entry, role) pairs: a JSON object whose values are role names (checked against the
    tenant's roles by the service, which has the database)."""
    if not isinstance(value, Mapping):
        raise ValueError(
            N_('Must be an object such as {"Faculty": "curator"}: each entry names a role of this tenant.')
        )
    if len(value) > ROLE_MAP_MAX:
        raise ValueError(Message(N_("Must have at most %(most)s entries."), most=ROLE_MAP_MAX))
    pairs = []
    for entry, role in value.items():
        if not isinstance(role, str) or not role.strip():
            raise ValueError(Message(N_("%(entry)r: must name a role of this tenant, such as curator."), entry=entry))
        pairs.append((entry, role.strip()))
    return pairs


def role_value_key(value: str) -> str:
    """How an identity provider's role value is compared: trimmed, without regard to case."""
    return " ".join(value.split()).casefold()


def _scim_role_map(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for entry, role in _role_map_shape(value):
        text = " ".join(entry.split()) if isinstance(entry, str) else ""
        problem = text_problem(text) if text else None
        if not text or problem or len(text) > ROLE_VALUE_MAX:
            raise ValueError(
                Message(
                    N_("%(entry)r: an identity provider's role value must be a text of 1 to %(most)s characters."),
                    entry=entry,
                    most=ROLE_VALUE_MAX,
                )
            )
        if role_value_key(text) in seen:
            raise ValueError(
                Message(
                    N_("%(entry)r: the same role value as %(other)r (case and spaces don't count)."),
                    entry=entry,
                    other=seen[role_value_key(text)],
                )
            )
        seen[role_value_key(text)] = text
        out[text] = role
    return out


def _lti_role_map(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry, role in _role_map_shape(value):
        parsed = parse_role(entry)
        if parsed is None or parsed.vocabulary == CONTEXT:
            raise ValueError(
                Message(
                    N_(
                        "%(entry)r is not a system or institution role (LTI 1.3 A.2.1/A.2.2), such as %(example)s; "
                        "course roles grant rights in their course only."
                    ),
                    entry=entry,
                    example="http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
                )
            )
        if parsed.uri in out and out[parsed.uri] != role:
            raise ValueError(Message(N_("%(entry)r: that role is mapped twice."), entry=entry))
        out[parsed.uri] = role
    return out


CATALOG: tuple[SettingSpec, ...] = (
    SettingSpec(
        "join_url",
        "url",
        "Where an invited person signs in (the LMS or identity provider); the invitation link sends them "
        "here once it is accepted. Invitations need it.",
        None,
        ("join_url",),
        _url,
    ),
    SettingSpec(
        "password_reset_url",
        "url",
        "Where people reset their password (the password_reset batch action emails this link).",
        None,
        ("password_reset_url",),
        _url,
    ),
    SettingSpec(
        "sender_name",
        "text",
        "The name emails come from (the From header's display name; the address is MAIL_FROM).",
        None,
        ("sender_name",),
        _name,
    ),
    SettingSpec(
        "default_language",
        "language",
        "The language of emails and pages for people who have none of their own.",
        DEFAULT_LANGUAGE,
        ("default_language",),
        _language,
    ),
    SettingSpec(
        "manager_permissions",
        "permissions",
        "What course managers may do in their groups: any of " + ", ".join(MANAGER_PERMISSIONS) + ".",
        list(DEFAULT_MANAGER_PERMISSIONS),
        ("lti", "manager_permissions"),
        _permissions,
    ),
    SettingSpec(
        "admin_roles",
        "roles",
        "System or institution role URIs (LTI 1.3 A.2.1/A.2.2) that make a launching person a tenant admin; "
        "course roles are refused. [] makes no LMS role an admin.",
        list(DEFAULT_ADMIN_ROLES),
        ("lti", "admin_roles"),
        _roles,
    ),
    SettingSpec(
        "scim_role_map",
        "role_map",
        "Which tenant role an identity provider's SCIM role gives: an object from a roles[].value (compared "
        "without regard to case or surrounding spaces) to a role of this tenant. When several map, the most "
        "privileged wins (admin, manager, curator, reporter, the tenant's own roles by name, learner). A role "
        "an admin gave by hand is never changed by the identity provider. {} (the default): SCIM roles grant "
        "nothing.",
        {},
        ("scim_role_map",),
        _scim_role_map,
    ),
    SettingSpec(
        "lti_role_map",
        "role_map",
        "Which tenant role an LMS's system or institution role (LTI 1.3 A.2.1/A.2.2 URIs) gives for the "
        "launch's session, together with the person's own role; course roles are refused. {} (the default): "
        "none.",
        {},
        ("lti", "role_map"),
        _lti_role_map,
    ),
    SettingSpec(
        "enroll_added_members",
        "flag",
        "Enrol people added to a group in the group's courses, as learners: people added one by one (the group "
        "page or POST /api/v1/groups/{id}/members), by accepting an invitation to the group, or by bulk add (the "
        "group page's template, or POST /api/v1/imports with group_id), by a manager or an admin. Enrollments "
        "that exist are left as they are.",
        False,
        ("enroll_added_members",),
        _flag,
    ),
    SettingSpec(
        "seats",
        "seats",
        "Read-only: the seat limit the service's operator set (null: none) and the seats in use "
        "(people who are not deactivated).",
        None,
        (),
        read_only=True,
    ),
)
BY_KEY: dict[str, SettingSpec] = {spec.key: spec for spec in CATALOG}
KEYS = tuple(BY_KEY)


def declared_custom_attributes(settings: Mapping[str, Any] | None) -> list[str]:
    """The names of the tenant's own user attributes (the ``custom_attributes`` setting, read by SCIM's
    /Schemas, rules and imports): a list of names or of ``{"name", "type"}`` objects, or an object
    whose keys are the names.  Anything else in it is ignored."""
    declared = (settings or {}).get("custom_attributes") or []
    items = list(declared.keys()) if isinstance(declared, Mapping) else declared if isinstance(declared, list) else []
    names: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else item
        if isinstance(name, str) and name.strip() and name not in names:
            names.append(name)
    return names


def declared_custom_labels(settings: Mapping[str, Any] | None) -> dict[str, str]:
    """{name: label} for the tenant's own user attributes declared with a ``label`` (``[{"name":
    "startDate", "label": "Start date"}]`` or ``{"startDate": {"type": "date", "label": "Start date"}}``)."""
    declared = (settings or {}).get("custom_attributes") or []
    items = (
        [{**v, "name": k} for k, v in declared.items() if isinstance(v, Mapping)]
        if isinstance(declared, Mapping)
        else declared
        if isinstance(declared, list)
        else []
    )
    labels: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        name, label = item.get("name"), item.get("label")
        if isinstance(name, str) and isinstance(label, str) and label.strip():
            labels.setdefault(name, label.strip())
    return labels


def stored(settings: Mapping[str, Any] | None, key: str) -> Any:
    """The value stored for ``key`` in a tenant's settings JSON, else its default.

    A stored value this version can't read counts as unset, except admin_roles, which then grants
    nothing (an unreadable list must never fall back to making people admins)."""
    spec = BY_KEY[key]
    node: Any = settings or {}
    for part in spec.path:
        if not isinstance(node, Mapping) or part not in node:
            return spec.default
        node = node[part]
    if spec.check is None:
        return node
    if spec.kind == "permissions" and isinstance(node, list):
        node = [p for p in node if p in MANAGER_PERMISSIONS]  # a permission this version dropped grants nothing
    try:
        return spec.check(node)
    except ValueError:
        return [] if key == "admin_roles" else {} if spec.kind == "role_map" else spec.default


def check_changes(changes: Mapping[str, Any], unset: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The checked values of ``changes`` (None for each key of ``unset``: back to its default).

    Raises :class:`SettingErrors` with one sentence per key that is unknown, read-only or invalid."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for key, value in [*changes.items(), *((k, None) for k in unset)]:
        spec = BY_KEY.get(key)
        if spec is None:
            errors[key] = [
                Message(N_("Unknown setting %(key)r; the settings are: %(choices)s."), key=key, choices=", ".join(KEYS))
            ]
        elif spec.read_only or spec.check is None:
            errors[key] = [Message(N_("%(key)s is read-only: the service's operator sets it."), key=key)]
        elif key in checked:
            errors[key] = [Message(N_("%(key)s is both set and unset."), key=key)]
        elif value is None:
            checked[key] = None
        else:
            try:
                checked[key] = spec.check(value)
            except ValueError as exc:
                errors[key] = [
                    Message(N_("%(key)s: %(reason)s"), key=key, reason=exc.args[0] if exc.args else str(exc))
                ]
    if errors:
        raise SettingErrors(errors)
    return checked


class SettingErrors(ValueError):
    """Invalid setting changes: ``errors`` maps each key to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def apply(settings: Mapping[str, Any] | None, checked: Mapping[str, Any]) -> dict[str, Any]:
    """A new settings document with ``checked`` written at each key's path (None removes the key)."""
    out: dict[str, Any] = json.loads(json.dumps(dict(settings or {})))  # a deep copy: the JSON column sees a change
    for key, value in checked.items():
        *parents, leaf = BY_KEY[key].path
        node = out
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return out


def parse_cli_value(key: str, text: str) -> Any:
    """A value as typed after ``--set key=``: lists as JSON or comma-separated ("" is the empty list);
    role maps as a JSON object ("" is the empty map)."""
    spec = BY_KEY.get(key)
    if spec is not None and spec.kind == "role_map":
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingErrors({key: [f"{key}: not a JSON object ({exc.msg})."]}) from None
    if spec is None or not spec.is_list:
        return text
    text = text.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingErrors({key: [f"{key}: not a JSON list ({exc.msg})."]}) from None
    return [part.strip() for part in text.split(",") if part.strip()]
