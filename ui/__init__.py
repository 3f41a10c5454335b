"""/ui: the embedded group-management UI, server-rendered over the same services as the admin API.

Every page works from the signed launch token (the LTI launch's, or the one a ``ui-link``
sign-in issues), carried in each link and form as ``lt`` so browsers that block third-party
cookies in the LMS iframe still work.  See :mod:`ui.guard` for authentication, CSRF and CSP.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the /ui blueprint and its views, and the UI's language choice (Flask-Babel)."""
    from ui import (  # noqa: F401 - the views register on bp
        group_managers,
        groups,
        guard,
        i18n,
        imports,
        layout,
        logs,
        members,
        notifications,
        people,
        pickers,
        reports,
        roles,
        rule_builder,
        settings,
    )
    from ui.blueprint import bp

    app.register_blueprint(bp)
    i18n.init_app(app)
