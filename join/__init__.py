"""The join edge: the page behind an invitation's link, ``/join/<token>``.

Opening the link shows what it will do; pressing the button uses it (provisioning/services/join_links.py)
and sends the person on to the tenant's join_url.  A link that is used, expired, superseded or not a
link at all gets a page saying so and what to do, never an error.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from join.views import bp

    app.register_blueprint(bp)
