"""Who an LTI user is here: the username and attributes a launch's claims or an NRPS member give them."""

from __future__ import annotations

import hashlib
from typing import Any

from provisioning.store.users import normalise_email


def username_for(issuer: str, sub: str, email: str | None) -> str:
    """A stable username for a user created from LTI: the email, else a digest of (issuer, sub)."""
    if email:
        return email
    return "lti-" + hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:20]


def person_values(claims: dict[str, Any], issuer: str, sub: str) -> dict[str, Any]:
    email = normalise_email(claims.get("email")) if isinstance(claims.get("email"), str) else None
    return {
        "username": username_for(issuer, sub, email),
        "email": email,
        "given_name": (claims.get("given_name") or None),
        "family_name": (claims.get("family_name") or None),
        "display_name": (claims.get("name") or None),
    }
