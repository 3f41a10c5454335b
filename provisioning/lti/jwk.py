"""The tool's RSA signing keys as JWKs: generate, derive the public JWK and its kid, seal at rest.

Storage, rotation and the grace period live in :mod:`provisioning.lti.keys`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwcrypto.jwk import JWK

KEY_SIZE = 2048
SEALED_PREFIX = "fernet-v1:"


class KeyUnsealError(ValueError):
    """A stored private key that the current SECRET_KEY does not open (the secret changed)."""


def _fernet(secret: str) -> Fernet:
    # HKDF (RFC 5869) turns SECRET_KEY into a key used for nothing else; Fernet is AES-128-CBC + HMAC-SHA256.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"provisioning", info=b"lti tool private keys v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal_private_pem(secret: str, pem: str) -> str:
    """The private key as stored: encrypted under a key derived from SECRET_KEY."""
    return SEALED_PREFIX + _fernet(secret).encrypt(pem.encode("ascii")).decode("ascii")


def open_private_pem(secret: str, sealed: str) -> str:
    """The PEM back from :func:`seal_private_pem`'s output."""
    if not sealed.startswith(SEALED_PREFIX):
        raise KeyUnsealError("the stored key is not sealed")
    try:
        return _fernet(secret).decrypt(sealed[len(SEALED_PREFIX) :].encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise KeyUnsealError("SECRET_KEY does not open the stored key") from exc


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
