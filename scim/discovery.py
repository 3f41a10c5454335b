"""Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /Schemas, /ResourceTypes.

They describe what this service really does: the limits advertised here are the ones
the other views enforce (they read the same settings).
"""

from __future__ import annotations

from flask import request

from provisioning.services.tenants import tenant_setting
from scim.auth import runtime, tenant_id
from scim.blueprint import base_url, bp, scim_response, setting
from scim.errors import ForbiddenError, NotFoundError
from scim.resources import CUSTOM_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA
from scim.schema_docs import custom_schema, enterprise_schema, group_schema, user_schema
from scim.views_search import LIST_SCHEMA

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"


def _no_filter() -> None:
    # RFC 7644 §4: these endpoints take no filter; "SHOULD respond with 403".
    if request.args.get("filter"):
        raise ForbiddenError("Discovery endpoints do not support filtering.")


def _list(resources: list[dict]) -> dict:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


@bp.get("/ServiceProviderConfig")
def service_provider_config():
    base = base_url()
    return scim_response(
        {
            "schemas": [SPC_SCHEMA],
            "documentationUri": f"{base}/ServiceProviderConfig",
            "patch": {"supported": True},
            "bulk": {
                "supported": True,
                "maxOperations": setting("SCIM_BULK_MAX_OPERATIONS"),
                "maxPayloadSize": setting("SCIM_BULK_MAX_PAYLOAD_SIZE"),
            },
            "filter": {"supported": True, "maxResults": setting("SCIM_MAX_PAGE_SIZE")},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "primary": True,
                    "description": "A tenant SCIM token (provisioning tokens create TENANT --scope scim) "
                    "sent as Authorization: Bearer <token>.",
                }
            ],
            "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
        }
    )


def _schemas() -> list[dict]:
    declared = tenant_setting(runtime(), tenant_id(), "custom_attributes") or []
    base = base_url()
    members = group_schema(setting("SCIM_LIST_MEMBERS_MAX"), setting("SCIM_MAX_MEMBERS_PER_REQUEST"))
    docs = [user_schema(), enterprise_schema(), custom_schema(declared), members]
    for doc in docs:
        doc["meta"] = {"resourceType": "Schema", "location": f"{base}/Schemas/{doc['id']}"}
    return docs


def _resource_types() -> list[dict]:
    base = base_url()
    return [
        {
            "schemas": [RT_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [
                {"schema": ENTERPRISE_SCHEMA, "required": False},
                {"schema": CUSTOM_SCHEMA, "required": False},
            ],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
        },
        {
            "schemas": [RT_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
        },
    ]


@bp.get("/Schemas")
def schemas():
    _no_filter()
    return scim_response(_list(_schemas()))


@bp.get("/Schemas/<path:schema_id>")
def schema(schema_id: str):
    found = next((d for d in _schemas() if d["id"].lower() == schema_id.lower()), None)
    if found is None:
        raise NotFoundError(f"No schema {schema_id!r}.")
    return scim_response(found)


@bp.get("/ResourceTypes")
def resource_types():
    _no_filter()
    return scim_response(_list(_resource_types()))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str):
    found = next((d for d in _resource_types() if d["id"].lower() == name.lower()), None)
    if found is None:
        raise NotFoundError(f"No resource type {name!r}.")
    return scim_response(found)
