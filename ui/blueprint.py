"""The /ui blueprint every UI view registers on, with its templates and assets, and the permission rule
each view declares.

Every view declares the action it needs with :func:`rule` (one of provisioning.permissions.ACTIONS);
ui.guard checks it on every request, before the view runs, on the group or person the URL names, and
refuses a view without a rule.  docs/PERMISSIONS.md is the table of role x action, and
tests/http/test_ui_permission_walk.py walks every route of the URL map against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint

from provisioning.permissions import ACTIONS

# Ids in paths fit a BIGINT: a larger number is a 404, never a database error.
ID = "int(max=9223372036854775807)"
bp = Blueprint(
    "ui", __name__, url_prefix="/ui", template_folder="templates", static_folder="static", static_url_path="/static"
)
RULE_ATTRIBUTE = "ui_permission"
View = TypeVar("View", bound=Callable)


def rule(action: str) -> Callable[[View], View]:
    """Declare the action a view needs (put it under the route decorator)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown permission action {action!r}; declare it in provisioning.permissions.ACTIONS.")

    def declare(view: View) -> View:
        setattr(view, RULE_ATTRIBUTE, action)
        return view

    return declare


# The blueprint's static files are served by Flask's own view (a bound method): its rule is declared here.
STATIC_ENDPOINT = "ui.static"


def declared_action(endpoint: str | None, view: Callable | None) -> str | None:
    """The action the view of ``endpoint`` declared with :func:`rule`, or None."""
    if endpoint == STATIC_ENDPOINT:
        return "public"
    return getattr(view, RULE_ATTRIBUTE, None)
