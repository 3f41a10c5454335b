"""SCIM 2.0 service provider (RFC 7643, RFC 7644) as a Flask blueprint at /scim/v2."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the filter translator is imported by services, which must stay Flask-free
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register /scim/v2 on the app (called by server.app.create_app)."""
    from scim import bulk, discovery, views_groups, views_search, views_users  # noqa: F401 - routes
    from scim.blueprint import DEFAULTS, bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
