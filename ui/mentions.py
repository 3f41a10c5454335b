"""Who acted and on what, as the logs show it: names with links (within the viewer's scope), else words.

An event's actor is a code the edge that recorded it chose (``ui:user-12``, ``token:HR sync``, ``lti``,
``system``, ``cli:root``, ``user 12`` for an invitation link) and its object a type and an id; a reader
sees "Ann Smith", "API key “HR sync”", "The LMS (Canvas)", "A background job", "a deleted person".
:class:`Mentions` resolves the names a page (or a chunk of a CSV download) mentions at once, one query
per kind, and only what the viewer may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import activity, permissions
from provisioning.activity_words import CHANNEL_WORDS
from provisioning.lti import registrations as lti_registrations
from provisioning.mail.triggers import KINDS as TRIGGER_KINDS
from ui.guard import principal, rt, ui_url
from ui.roles import tenant_role_words

# A person acting: through the web app (ui.guard.actor) or an invitation link (services.join_links).
PERSON_ACTOR = re.compile(r"(?:ui:user-|user )(\d+)")

# Actors that are no person, in words.
NAMED_ACTORS = {
    "ui:owner": lazy_gettext("The organisation's owner"),
    "owner": lazy_gettext("The organisation's owner"),
    "rule": lazy_gettext("A group rule"),
    "schedule": lazy_gettext("A scheduled job"),
    "report schedule": lazy_gettext("A scheduled report"),
    "lti dynamic registration": lazy_gettext("An LMS registering itself"),
}
# Objects that have no page of their own, in words (never their ids).
OBJECT_WORDS = {
    "import": lazy_gettext("an upload"),
    "operation": lazy_gettext("a running action"),
    "course": lazy_gettext("a course"),
    "tenant": lazy_gettext("the organisation"),
    "lti_registration": lazy_gettext("an LMS"),
    "notification_trigger": lazy_gettext("an automatic notification"),
    "report_schedule": lazy_gettext("a report schedule"),
    "invitation": lazy_gettext("an invitation"),
    "signin_link": lazy_gettext("a sign-in link"),
    "role": lazy_gettext("a role"),
}


def channel_words(channel: str | None) -> str:
    """The channel in words, in the reader's language (provisioning.activity_words.CHANNEL_WORDS)."""
    words = CHANNEL_WORDS.get(channel or "")
    return _(words) if words else _("Somewhere else")


def channel_choices() -> dict[str, str]:
    """The channels for the log's filter, in words."""
    return {code: _(words) for code, words in CHANNEL_WORDS.items()}


@dataclass(frozen=True)
class Mention:
    """A person or group as a log shows it: the name, and its page when the viewer may open it."""

    text: str
    href: str | None = None


def _person_actor(name: str | None) -> int | None:
    match = PERSON_ACTOR.fullmatch(name or "")
    return int(match[1]) if match else None


def _object_id(kind: str, object_type: str | None, object_id: str | None) -> int | None:
    return int(object_id) if object_type == kind and (object_id or "").isdigit() else None


def _detail_id(details: dict | None, key: str) -> int | None:
    value = (details or {}).get(key) if isinstance(details, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Mentions:
    """The names a page of log rows mentions, resolved at once (one query per kind) within the viewer's scope.

    ``actors``: each row's actor; ``objects``: (object type, object id, details) of each row; the details'
    user_id and group_id (a membership event names the group as its object and the member in its details)
    are resolved too.
    """

    def __init__(
        self,
        actors: Iterable[str | None],
        objects: Iterable[tuple[str | None, str | None, Any]] = (),
        channels: Iterable[str | None] = (),
    ):
        actors, objects = list(actors), list(objects)
        users = {i for i in map(_person_actor, actors) if i is not None}
        users |= {i for t, o, _d in objects if (i := _object_id("user", t, o)) is not None}
        users |= {i for _t, _o, d in objects if (i := _detail_id(d, "user_id")) is not None}
        groups = {i for t, o, _d in objects if (i := _object_id("group", t, o)) is not None}
        groups |= {i for _t, _o, d in objects if (i := _detail_id(d, "group_id")) is not None}
        p = principal()
        self.admin = permissions.wide(p, "view_activity")
        self.names = permissions.names_in_scope(rt(), p, users, groups)
        # A deleted group's name is in its "group.deleted" event: for those who see the whole log.
        self.deleted_groups = (
            activity.deleted_group_names(rt(), p.tenant_id, self.names.gone_groups) if self.admin else {}
        )
        kinds = {t for t, _o, _d in objects}
        from_lms = "lti" in actors or "lti" in set(channels) or "lti_registration" in kinds
        self.platforms = _platforms(p.tenant_id) if from_lms else None
        self.roles = tenant_role_words(p.tenant_id) if "role" in kinds else {}

    @classmethod
    def of_events(cls, events: Iterable[Any]) -> Mentions:
        events = list(events)
        return cls(
            [e.actor for e in events],
            [(e.object_type, e.object_id, e.details) for e in events],
            [e.channel for e in events],
        )

    def actor(self, name: str | None, channel: str | None = None, details: dict | None = None) -> Mention:
        """Who acted, e.g. "Ann Smith" (linked), "API key “HR sync”", "The LMS (Canvas)", "A background job"."""
        name = name or ""
        if (uid := _person_actor(name)) is not None:
            if (found := self._user(uid)) is not None:
                return found
            return Mention(_("A deleted person") if uid in self.names.gone_users else _("Someone outside your groups"))
        if name in NAMED_ACTORS:
            return Mention(str(NAMED_ACTORS[name]))
        if name.startswith("token:"):
            key = name[len("token:") :]
            if channel == "scim":
                return Mention(_("The directory sync “%(name)s” (SCIM)", name=key))
            return Mention(_("API key “%(name)s”", name=key))
        if name.startswith("cli:"):
            return Mention(_("The command line (%(login)s)", login=name[len("cli:") :]))
        if name == "lti" or (name == "system" and channel == "lti"):
            platform = self._platform(details)
            return Mention(_("The LMS (%(name)s)", name=platform) if platform else _("The LMS"))
        if name == "system":
            return Mention(_("A background job") if channel in ("job", None) else _("The system"))
        return Mention(_("Someone"))  # an actor of no kind above: the channel column says through what

    def object(self, object_type: str | None, object_id: str | None, details: dict | None = None) -> Mention:
        """What the event was about: a person or group by name (linked), else words for its kind."""
        if (uid := _object_id("user", object_type, object_id)) is not None:
            return self.person(uid)
        if (gid := _object_id("group", object_type, object_id)) is not None:
            return self.group(gid)
        if object_type == "role":
            label = self.roles.get(object_id or "") or (details or {}).get("label")
            href = ui_url("ui.roles_page") if self.admin and object_id in self.roles else None
            return Mention(_("the role “%(name)s”", name=label), href) if label else Mention(_("a role"))
        if object_type == "lti_registration" and (object_id or "").isdigit():
            named = self._platform({"registration_id": int(object_id or 0)})
            href = ui_url("ui.settings") if self.admin else None
            return Mention(_("the LMS “%(name)s”", name=named), href) if named else Mention(_("an LMS"))
        if object_type == "notification_trigger" and object_id in TRIGGER_KINDS:
            name = _(TRIGGER_KINDS[object_id].label)
            href = ui_url("ui.notification_trigger", trigger=object_id) if principal().role == "admin" else None
            return Mention(_("the automatic notification “%(name)s”", name=name), href)
        kind = OBJECT_WORDS.get(object_type or "")
        text = str(kind) if kind else _("something else")
        # An administrator may open any operation and upload: link them (others may not see another's).
        if self.admin and (object_id or "").isdigit():
            if object_type == "operation":
                return Mention(
                    _("an action (its progress and result)"), ui_url("ui.operation", operation_id=int(object_id or 0))
                )
            if object_type == "import":
                return Mention(_("an upload (its preview)"), ui_url("ui.import_preview", import_id=int(object_id or 0)))
        return Mention(text)

    def person(self, uid: int) -> Mention:
        if (found := self._user(uid)) is not None:
            return found
        return Mention(_("a deleted person") if uid in self.names.gone_users else _("a person outside your groups"))

    def group(self, gid: int) -> Mention:
        if gid in self.names.groups:
            return Mention(self.names.groups[gid], ui_url("ui.group", group_id=gid))
        if gid in self.names.gone_groups:
            if gid in self.deleted_groups:
                return Mention(_("the deleted group “%(name)s”", name=self.deleted_groups[gid]))
            return Mention(_("a deleted group"))
        return Mention(_("a group outside your groups"))

    def details(self, details: dict | None, object_type: str | None) -> list[Mention]:
        """The people and groups an event's details name beside its object."""
        out = []
        if (uid := _detail_id(details, "user_id")) is not None and object_type != "user":
            out.append(self.person(uid))
        if (gid := _detail_id(details, "group_id")) is not None and object_type != "group":
            out.append(self.group(gid))
        return out

    def _user(self, uid: int) -> Mention | None:
        if uid not in self.names.users:
            return None
        return Mention(self.names.users[uid], ui_url("ui.person", user_id=uid))

    def _platform(self, details: dict | None) -> str | None:
        """The LMS an event came from, by name: its registration, else its issuer, else the tenant's only one."""
        platforms = self.platforms or []
        details = details if isinstance(details, dict) else {}
        for reg in platforms:
            if reg.id == details.get("registration_id") or (details.get("issuer") and reg.issuer == details["issuer"]):
                return _platform_name(reg)
        return _platform_name(platforms[0]) if len(platforms) == 1 and "registration_id" not in details else None


def _platforms(tenant_id: int) -> list[Any]:
    return lti_registrations.list_registrations(rt(), tenant_id, include_revoked=True)


def _platform_name(reg: Any) -> str:
    return reg.name or urlsplit(reg.issuer or "").hostname or ""
