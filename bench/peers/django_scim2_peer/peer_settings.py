"""A minimal Django project serving django-scim2 for the benchmark (see bench/README.md).

Runs in the peer's own virtual environment (bench/.peers/django-scim2).  Environment:
PEER_DATABASE_URL (postgresql://user@host:port/name: django-scim2 supports only PostgreSQL), PEER_TOKEN.
"""

import os
from urllib.parse import urlsplit

_db = urlsplit(os.environ["PEER_DATABASE_URL"])

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "bench-peer-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_scim", "peerapp"]
# django-scim2 implements no authentication: a static bearer token, checked without a query.
MIDDLEWARE = ["peerapp.middleware.BearerTokenMiddleware"]
ROOT_URLCONF = "peer_urls"
AUTH_USER_MODEL = "peerapp.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        "CONN_MAX_AGE": None,  # persistent connections, as our pool keeps them
    }
}
SCIM_SERVICE_PROVIDER = {
    "NETLOC": "127.0.0.1",
    "AUTHENTICATION_SCHEMES": [
        {"type": "oauthbearertoken", "name": "Bearer token", "description": "Static bearer token (benchmark)"}
    ],
    "USER_ADAPTER": "peerapp.adapters.User",
    "GROUP_ADAPTER": "peerapp.adapters.Group",
    "GROUP_MODEL": "peerapp.models.Group",
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
