"""The tool's RSA signing keys as JWKs: generate, derive the public JWK and its kid.

Storage, rotation and the grace period live in :mod:`provisioning.services.lti_keys`.
"""

from __future__ import annotations

import json
from typing import Any

from jwcrypto.jwk import JWK

KEY_SIZE = 2048


def generate_private_pem() -> str:
    """A new RSA private key in PEM (PKCS#8)."""
    key = JWK.generate(kty="RSA", size=KEY_SIZE)
    return key.export_to_pem(private_key=True, password=None).decode("ascii")


def public_jwk(private_pem: str) -> dict[str, Any]:
    """The public half as a JWK for our JWKS; the kid is the RFC 7638 thumbprint."""
    key = JWK.from_pem(private_pem.encode("ascii"))
    jwk = json.loads(key.export_public())
    jwk["kid"] = key.thumbprint()
    # LTI Security Framework §6.3: RS256 is the algorithm platforms and tools must support.
    jwk["alg"] = "RS256"
    jwk["use"] = "sig"
    return jwk
