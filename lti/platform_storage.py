"""LTI platform storage: the state and nonce kept in the LMS's window when cookies can't be.

When a browser blocks the tool's cookies inside the LMS iframe, a platform that offers
storage names a frame in the ``lti_storage_target`` login parameter (1EdTech "LTI OIDC Login
with LTI Client Side postMessages" v0.1, and "LTI postMessage Storage" v0.1).  Our page
(``static/platform_storage.js``) then puts the login's state and nonce there with
``lti.put_data`` before going to the platform's authorization endpoint, and at the launch reads
them back with ``lti.get_data`` and posts what it read to the launch endpoint, where
:func:`proves_login` compares it with the login we recorded.

The value stored is an HMAC of the state (and of the nonce) under SECRET_KEY, not the state
itself: state and nonce travel in URLs the platform logs, the stored value only in our page.
No Flask here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

PARAM = "lti_storage_target"
# Form fields the launch page's script posts back with the id_token.
STATE_FIELD, NONCE_FIELD, FAILED_FIELD = "lti_storage_state", "lti_storage_nonce", "lti_storage_failed"


def storage_key(kind: str, value: str) -> str:
    """The key under which a login's state or nonce is stored.

    Canvas's guidance: put the value in the key, so parallel launches never collide.
    """
    return f"{kind}-{value}"


def storage_value(secret: str, kind: str, value: str) -> str:
    mac = hmac.new(secret.encode(), f"lti-platform-storage|{kind}|{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def proves_login(secret: str, state: str, nonce: str, stored_state: str | None, stored_nonce: str | None) -> bool:
    """True when the values read from the platform's storage are the ones our login page put there."""
    return hmac.compare_digest(stored_state or "", storage_value(secret, "state", state)) and hmac.compare_digest(
        stored_nonce or "", storage_value(secret, "nonce", nonce)
    )


def platform_origin(auth_login_url: str) -> str | None:
    """The origin storage messages go to and must come from.

    LTI postMessage Storage v0.1: the target origin of ``lti.put_data``/``lti.get_data`` is the
    origin of the platform's OIDC authorization endpoint, and the tool accepts answers only from it.
    """
    parts = urlsplit(auth_login_url or "")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def valid_target(name: str | None) -> bool:
    """A frame name we will look up in the LMS window (``_parent`` or a plain frame name)."""
    return bool(name) and len(name) <= 200 and name.isprintable()
