"""The LTI 1.3 tool (/lti): OIDC login, launch, JWKS, configuration and Dynamic Registration.

The LTI domain (what a launch does to our data, rosters, registrations, keys) is the core's
:mod:`provisioning.lti`; this package is the protocol's HTTP edge.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the /lti blueprint."""
    from lti.views import bp

    app.register_blueprint(bp)
