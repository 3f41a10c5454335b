"""The schema documents /Schemas serves (RFC 7643 §7, §8.7): what we really store and return.

Written as compact builders rather than pages of JSON; attribute names, types and
characteristics follow RFC 7643 §8.7.1 except where noted.
"""

from __future__ import annotations

from typing import Any

from scim.resources import CUSTOM_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA


def attr(
    name: str,
    type_: str = "string",
    *,
    multi: bool = False,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    sub: list[dict] | None = None,
    canonical: list[str] | None = None,
    refs: list[str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if sub is not None:
        doc["subAttributes"] = sub
        del doc["caseExact"], doc["uniqueness"]
    if canonical:
        doc["canonicalValues"] = canonical
    if refs:
        doc["referenceTypes"] = refs
    return doc


def _multi(
    name: str,
    value_type: str = "string",
    *,
    canonical: list[str] | None = None,
    refs: list[str] | None = None,
    value: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return attr(
        name,
        "complex",
        multi=True,
        description=f"{name}; at most one value has primary true (RFC 7643 §2.4): marking one primary unmarks the others.",
        sub=[
            attr("value", value_type, refs=refs, **(value or {})),
            attr("display"),
            attr("type", canonical=canonical),
            attr("primary", "boolean"),
        ],
    )


def user_schema() -> dict[str, Any]:
    return schema(
        USER_SCHEMA,
        "User",
        "User Account",
        [
            attr(
                "userName",
                required=True,
                uniqueness="server",
                description="Unique identifier for the user, unique per tenant ignoring case; kept as given.",
            ),
            attr(
                "name",
                "complex",
                sub=[
                    attr(n)
                    for n in (
                        "formatted",
                        "familyName",
                        "givenName",
                        "middleName",
                        "honorificPrefix",
                        "honorificSuffix",
                    )
                ],
            ),
            attr("displayName"),
            attr("nickName"),
            attr("profileUrl", "reference", refs=["external"]),
            attr("title"),
            attr("userType"),
            attr("preferredLanguage"),
            attr("locale"),
            attr("timezone"),
            # Every user is active or not: the attribute can't be unassigned, so it is "required"
            # (a create without it means true; a PUT without it keeps the current state).
            attr(
                "active",
                "boolean",
                required=True,
                description="false deactivates the user (the same as the admins' batch action); true when omitted on create.",
            ),
            # The product rule (README, "SCIM"): the primary address is how admins, imports and LTI find
            # a person, so it is unique per tenant (409 uniqueness); other addresses may be shared (a
            # shared mailbox).  "server" is the honest summary: a client must expect a 409 on emails.
            _multi(
                "emails",
                canonical=["work", "home", "other"],
                value={
                    "uniqueness": "server",
                    "description": (
                        "An email address. The primary address (primary true, else the first) is unique per "
                        "tenant ignoring case; the other addresses may be shared by several users."
                    ),
                },
            ),
            _multi("phoneNumbers", canonical=["work", "home", "mobile", "fax", "pager", "other"]),
            _multi("ims"),
            _multi("photos", "reference", canonical=["photo", "thumbnail"], refs=["external"]),
            attr(
                "addresses",
                "complex",
                multi=True,
                description="addresses; at most one value has primary true (RFC 7643 §2.4): marking one primary unmarks the others.",
                sub=[
                    attr(n)
                    for n in ("formatted", "streetAddress", "locality", "region", "postalCode", "country", "type")
                ]
                + [attr("primary", "boolean")],
            ),
            attr(
                "groups",
                "complex",
                multi=True,
                mutability="readOnly",
                sub=[
                    attr("value", mutability="readOnly"),
                    attr("$ref", "reference", mutability="readOnly", refs=["Group"]),
                    attr("display", mutability="readOnly"),
                    attr("type", mutability="readOnly", canonical=["direct"]),
                ],
            ),
            _multi("entitlements"),
            _multi("roles"),
            _multi("x509Certificates", "binary"),
        ],
    )


def enterprise_schema() -> dict[str, Any]:
    return schema(
        ENTERPRISE_SCHEMA,
        "EnterpriseUser",
        "Enterprise User",
        [
            attr("employeeNumber"),
            attr("costCenter"),
            attr("organization"),
            attr("division"),
            attr("department"),
            # Only the manager's id is stored; $ref and displayName are not kept, so not advertised.
            attr("manager", "complex", sub=[attr("value", description="The id of the user's manager.")]),
        ],
    )


CUSTOM_TYPES = ("string", "boolean", "decimal", "integer", "dateTime", "reference")


def custom_schema(declared: list[Any]) -> dict[str, Any]:
    """The tenant's own attributes (tenant setting "custom_attributes": [{"name", "type"}]).

    Any attribute sent under this URN is stored; the declared ones are what automatic
    rules and this document know by type.
    """
    attributes = []
    for item in declared if isinstance(declared, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            type_ = item.get("type") if item.get("type") in CUSTOM_TYPES else "string"
            attributes.append(attr(item["name"], type_, description=str(item.get("description") or item["name"])))
    return schema(CUSTOM_SCHEMA, "ProvisioningUser", "The tenant's custom user attributes", attributes)


def group_schema(list_members_max: int, members_per_request: int) -> dict[str, Any]:
    """The Group schema; the members description states the service's member bounds (issue 15 #10)."""
    return schema(
        GROUP_SCHEMA,
        "Group",
        "Group",
        [
            attr(
                "displayName",
                required=True,
                uniqueness="server",
                description="The group's name, unique per tenant ignoring case.",
            ),
            attr(
                "members",
                "complex",
                multi=True,
                description=(
                    f"The group's users. Lists (GET /Groups, .search) leave out the members of a group with "
                    f"more than {list_members_max}; GET /Groups/{{id}} returns them all. One request may name "
                    f"at most {members_per_request} members."
                ),
                sub=[
                    attr("value", mutability="immutable", description="The id of a user."),
                    attr("$ref", "reference", mutability="immutable", refs=["User"]),
                    attr("type", mutability="immutable", canonical=["User"]),
                ],
            ),
        ],
    )


def schema(urn: str, name: str, description: str, attributes: list[dict]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
    }
