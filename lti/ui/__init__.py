"""/ui: the embedded group-management UI, server-rendered over the same services as the admin API.

Every page works from the signed launch token (the LTI launch's, or the one a ``ui-link``
sign-in issues), carried in each link and form as ``lt`` so browsers that block third-party
cookies in the LMS iframe still work.  See :mod:`.guard` for authentication, CSRF and CSP.
"""

from __future__ import annotations

from flask import Blueprint

# Ids in paths fit a BIGINT: a larger number is a 404, never a database error.
ID = "int(max=9223372036854775807)"
bp = Blueprint("ui", __name__, url_prefix="/ui", template_folder="../templates",
               static_folder="../static", static_url_path="/static")


def init_app(app) -> None:
    """Register the /ui blueprint and its views."""
    from lti.ui import groups, guard, imports, logs, members, people  # noqa: F401 - the views register on bp

    app.register_blueprint(bp)
