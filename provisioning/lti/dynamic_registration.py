"""LTI Dynamic Registration 1.0: read the platform's configuration, register, store the result.

The two URLs fetched here come from whoever opened the invite link, so they go through
provisioning/lti/guarded_fetch.py with the invite's policy, and every failure (a refused URL, an
unreachable or slow host, an HTTP error, a configuration that does not fit the spec, a platform
that refuses) answers the same :data:`GENERIC_FAILURE`: telling them apart would make this endpoint
a probe of the service's network.  The reason goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from provisioning.activity import Actor
from provisioning.errors import Conflict, InvalidInput
from provisioning.lti.guarded_fetch import FetchRefused, UrlPolicy, request_json
from provisioning.lti.registrations import register_platform
from provisioning.models import LtiRegistration
from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
# URLs of the configuration the tool will call later (launch keys, access tokens): held to the same policy.
LATER_FETCHED = ("authorization_endpoint", "token_endpoint", "jwks_uri")
GENERIC_FAILURE = (
    "The registration with your LMS could not be completed. Ask the administrator of this service for a new "
    "registration link and start again from the LMS (the reason is in the service log)."
)


class RegistrationFailed(InvalidInput):
    """Dynamic registration failed; the message is always :data:`GENERIC_FAILURE`."""

    def __init__(self) -> None:
        super().__init__(GENERIC_FAILURE, details={"openid_configuration": [GENERIC_FAILURE]})


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _platform_config(policy: UrlPolicy, url: str) -> dict[str, Any]:
    config = request_json(policy, "GET", url)
    if not isinstance(config, dict):
        raise FetchRefused("the configuration is not a JSON object")
    missing = [k for k in REQUIRED if not isinstance(config.get(k), str) or not config[k]]
    if missing:
        raise FetchRefused(f"the configuration lacks {', '.join(missing)}")
    # LTI DR 1.0 §3.5.1: the issuer must be on the origin the configuration was read from, so a
    # configuration document can't claim another platform's issuer (and take its launches).
    if _origin(config["issuer"]) != _origin(url):
        raise FetchRefused(f"the issuer {config['issuer'][:200]!r} is not on the configuration URL's origin")
    for key in LATER_FETCHED:
        policy.check_resolves(config[key])
    return config


def dynamic_register(
    rt: Runtime,
    tenant_id: int,
    policy: UrlPolicy,
    openid_configuration_url: str,
    registration_token: str | None,
    tool_request: dict[str, Any],
    actor: Actor,
    *,
    name: str | None = None,
) -> LtiRegistration:
    """Register the tool with a platform that started LTI Dynamic Registration (§3.3-3.6)."""
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        config = _platform_config(policy, openid_configuration_url)
        answer = request_json(policy, "POST", config["registration_endpoint"], body=tool_request, headers=headers)
        if not isinstance(answer, dict) or not answer.get("client_id"):
            raise FetchRefused("the registration answer has no client_id")
    except FetchRefused as exc:
        log.warning("LTI dynamic registration for tenant %s failed: %s", tenant_id, exc)
        raise RegistrationFailed() from None
    tool_config = answer.get(TOOL_CONFIG) or {}
    deployment = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    try:
        return register_platform(
            rt,
            tenant_id,
            issuer=str(config["issuer"]),
            client_id=str(answer["client_id"]),
            auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"],
            deployment_ids=[str(deployment)] if deployment else [],
            auth_audience=config.get("authorization_server"),
            name=name,
            actor=actor,
        )
    except (InvalidInput, Conflict) as exc:
        log.warning("LTI dynamic registration for tenant %s: the platform's values were refused: %s", tenant_id, exc)
        raise RegistrationFailed() from None
