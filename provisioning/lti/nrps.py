"""A client for LTI Names and Role Provisioning Services 2.0 and the platform's token endpoint.

Not pylti1p3's ServiceConnector: that one lower-cases the whole Link header (so next URLs
lose their case), only understands ``rel="next"`` quoted, and caches access tokens per
connector without looking at their expiry.  This module has no Flask in it; jobs use it.
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlsplit

import jwt
import requests
from requests.utils import parse_header_links

from provisioning.runtime import MembersPage, Platform

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
TIMEOUT = 30
# Renew a little before the platform's expiry so a token never dies in flight.
EXPIRY_MARGIN = 30


class NrpsError(RuntimeError):
    """The platform refused or answered something that is not an NRPS membership container."""


class TokenCache:
    """Access tokens per (issuer, client_id, scopes), kept until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
            if found and found[1] > time.monotonic():
                return found[0]
            self._tokens.pop(key, None)
            return None

    def put(self, key: tuple[str, str, str], token: str, expires_in: int) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(0, expires_in - EXPIRY_MARGIN))

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        """Forget every token (a platform that is not the one they came from would refuse them)."""
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()


def link_targets(header: str | None) -> dict[str, str]:
    """rel -> URL from a Link header (RFC 8288): rel quoted or not, several rels per link, URL case kept."""
    found: dict[str, str] = {}
    for link in parse_header_links(header or ""):
        for rel in (link.get("rel") or "").split():
            found.setdefault(rel.lower(), link.get("url", ""))
    return found


class NrpsClient:
    def __init__(self, platform: Platform, session: requests.Session | None = None, cache: TokenCache = TOKENS) -> None:
        self.platform = platform
        self.http = session or requests.Session()
        self.cache = cache

    def _cache_key(self, scopes: list[str]) -> tuple[str, str, str]:
        return (self.platform.issuer, self.platform.client_id, " ".join(sorted(scopes)))

    def access_token(self, scopes: list[str]) -> str:
        """An access token by the client-credentials grant with a signed JWT (IMS Security Framework §4.1)."""
        key = self._cache_key(scopes)
        token = self.cache.get(key)
        if token:
            return token
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": self.platform.client_id,
                "sub": self.platform.client_id,
                "aud": self.platform.audience or self.platform.token_url,
                "iat": now,
                "exp": now + 300,
                "jti": uuid.uuid4().hex,
            },
            self.platform.private_pem,
            algorithm="RS256",
            headers={"kid": self.platform.kid},
        )
        try:
            resp = self.http.post(
                self.platform.token_url,
                timeout=TIMEOUT,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": assertion,
                    "scope": " ".join(scopes),
                },
            )
        except requests.RequestException as exc:
            raise NrpsError(
                f"The token endpoint {self.platform.token_url} could not be reached: {type(exc).__name__}"
            ) from exc
        if not resp.ok:
            raise NrpsError(f"The token endpoint refused our request: HTTP {resp.status_code}.")
        body = resp.json()
        token = body.get("access_token")
        if not token:
            raise NrpsError("The token endpoint answered without an access_token.")
        self.cache.put(key, token, int(body.get("expires_in") or 3600))
        return token

    def members_page(self, url: str, *, origin: str | None = None) -> MembersPage:
        """One page of a membership container; a 401 renews the token once (it may have been revoked)."""
        if origin and _origin(url) != _origin(origin):
            # The bearer token must not be sent to another host a page told us to follow.
            raise NrpsError(f"The platform's next-page link {url} points away from {_origin(origin)}.")
        for attempt in (1, 2):
            token = self.access_token([NRPS_SCOPE])
            try:
                resp = self.http.get(
                    url, timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_MEDIA_TYPE}
                )
            except requests.RequestException as exc:
                raise NrpsError(f"The membership service could not be reached: {type(exc).__name__}") from exc
            if resp.status_code == 401 and attempt == 1:
                self.cache.drop(self._cache_key([NRPS_SCOPE]))
                continue
            break
        if not resp.ok:
            raise NrpsError(f"The membership service refused: HTTP {resp.status_code}.")
        try:
            body = resp.json()
        except ValueError as exc:
            raise NrpsError("The membership service did not answer JSON.") from exc
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            raise NrpsError("The membership service's answer has no members list.")
        links = link_targets(resp.headers.get("Link"))  # requests' headers ignore the name's case
        return MembersPage(
            members=[m for m in members if isinstance(m, dict)],
            next_url=links.get("next"),
            differences_url=links.get("differences"),
            context=body.get("context") or {},
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
