"""LTI Dynamic Registration 1.0: read the platform's configuration, register, store the result."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.lti.registrations import (
    HTTP_TIMEOUT,
    PlatformUnavailable,
    fetch_json,
    register_platform,
)
from provisioning.models import LtiRegistration
from provisioning.runtime import Runtime

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")


def _refuse(message: str, field: str = "openid_configuration") -> InvalidInput:
    return InvalidInput(message, details={field: [message]})


def dynamic_register(
    rt: Runtime,
    tenant_id: int,
    openid_configuration_url: str,
    registration_token: str | None,
    tool_request: dict[str, Any],
    actor: Actor,
) -> LtiRegistration:
    """Register the tool with a platform that started LTI Dynamic Registration."""
    parts = urlsplit(openid_configuration_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _refuse("The openid_configuration parameter is not an http(s) URL.")
    try:
        config = fetch_json(openid_configuration_url)
    except PlatformUnavailable as exc:
        raise _refuse(f"The platform's configuration could not be read: {exc}") from exc
    if not isinstance(config, dict):
        raise _refuse("The platform's configuration is not a JSON object.")
    missing = [k for k in REQUIRED if not config.get(k)]
    if missing:
        raise _refuse(f"The platform's configuration lacks {', '.join(missing)}.")
    # LTI DR 1.0 §3.5.1: the issuer's host must be the host the configuration was fetched from.
    if urlsplit(str(config["issuer"])).netloc.lower() != parts.netloc.lower():
        raise _refuse(f"The platform's issuer {config['issuer']!r} is not on the host of its configuration URL.")
    headers = {"Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        resp = requests.post(config["registration_endpoint"], json=tool_request, headers=headers, timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        answer = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise _refuse(f"The platform refused the registration ({type(exc).__name__}).") from exc
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise _refuse("The platform's registration answer has no client_id.")
    tool_config = answer.get(TOOL_CONFIG) or {}
    deployment = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
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
        actor=actor,
    )
