"""What platforms need to know about the tool: Canvas's developer-key JSON, Moodle's manual
setup values, and the LTI Dynamic Registration request (LTI DR 1.0 §3.4)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from provisioning.lti.nrps import NRPS_SCOPE

TITLE = "Group provisioning"
DESCRIPTION = "Manage the groups of your course and sync its roster."
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email"]


def urls(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "login": f"{base}/lti/login",
        "launch": f"{base}/lti/launch",
        "jwks": f"{base}/lti/jwks",
        "domain": urlsplit(base).netloc,
    }


def canvas_config(base_url: str) -> dict[str, Any]:
    """The JSON Canvas accepts for an LTI 1.3 developer key ("Paste JSON" or "Enter URL")."""
    u = urls(base_url)
    placement = {
        "text": TITLE,
        "enabled": True,
        "message_type": "LtiResourceLinkRequest",
        "target_link_uri": u["launch"],
    }
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": u["login"],
        "target_link_uri": u["launch"],
        "public_jwk_url": u["jwks"],
        "scopes": [NRPS_SCOPE],
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": u["domain"],
                "privacy_level": "public",
                "settings": {"placements": [{**placement, "placement": "course_navigation"}]},
            }
        ],
        "custom_fields": {},
    }


def moodle_config(base_url: str) -> dict[str, Any]:
    """The values of Moodle's "Manage tools > configure a tool manually" form (LTI 1.3)."""
    u = urls(base_url)
    return {
        "tool_name": TITLE,
        "tool_url": u["launch"],
        "lti_version": "LTI 1.3",
        "public_key_type": "Keyset URL",
        "public_keyset": u["jwks"],
        "initiate_login_url": u["login"],
        "redirection_uris": [u["launch"]],
        "services": {"ims_lti_names_and_role_provisioning": "Use this service"},
        "privacy": {"share_launcher_name": "Always", "share_launcher_email": "Always"},
    }


def registration_request(base_url: str) -> dict[str, Any]:
    """The client registration a tool POSTs to the platform (LTI DR 1.0 §3.4)."""
    u = urls(base_url)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": u["login"],
        "redirect_uris": [u["launch"]],
        "client_name": TITLE,
        "jwks_uri": u["jwks"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": NRPS_SCOPE,
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": u["domain"],
            "target_link_uri": u["launch"],
            "description": DESCRIPTION,
            "claims": CLAIMS,
            "messages": [{"type": "LtiResourceLinkRequest", "target_link_uri": u["launch"], "label": TITLE}],
        },
    }
