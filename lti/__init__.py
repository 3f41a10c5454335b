"""LTI 1.3 tool and the embedded group-management UI.

Importing the package stays Flask-free (jobs use :mod:`provisioning.lti.nrps`); the blueprint is imported
by :func:`init_app` only.
"""


def init_app(app) -> None:
    """Register the /lti blueprint (login, launch, JWKS, config, dynamic registration)."""
    from lti.views import bp

    app.register_blueprint(bp)
    from lti.ui import init_app as init_ui

    init_ui(app)
