"""Listing and searching (RFC 7644 §3.4.2, §3.4.3): GET on a collection and POST /.search."""

from __future__ import annotations

from typing import Any

from flask import request

from scim import search
from scim.auth import runtime, tenant_id
from scim.blueprint import base_url, bp, int_param, json_body, scim_response, setting
from scim.errors import InvalidSyntaxError, ScimError
from scim.projection import project, wants
from scim.resources import group_document, group_entry, member_entry, user_document

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _documents(resource: str, rows, related, query: search.Query) -> list[dict[str, Any]]:
    base = base_url()
    docs = []
    for row in rows:
        if resource == "User":
            groups = None if related is None else [group_entry(g, n, base) for g, n in related.get(row.id, [])]
            doc = user_document(row, base, groups)
        else:
            # A group over SCIM_LIST_MEMBERS_MAX members is not in related: listed without its members
            # (GET /Groups/{id} has them all), so one large group cannot make a page megabytes long.
            members = None if related is None or row.id not in related else related[row.id]
            doc = group_document(row, base, None if members is None else [member_entry(u, base) for u in members])
        docs.append(project(doc, query.attributes, query.excluded))
    return docs


def _related_wanted(resource: str, query: search.Query) -> bool:
    return wants("groups" if resource == "User" else "members", query.attributes, query.excluded)


def _list(resources: list[str], params: dict[str, Any]):
    query = search.parse_query(params, setting("SCIM_MAX_PAGE_SIZE"), int_param)
    rt, tid = runtime(), tenant_id()
    total, docs = 0, []
    errors: list[ScimError] = []
    for resource in resources:
        # Root searches span both types; an offset into the second starts after the first's total.
        sub = search.Query(
            **{**query.__dict__, "start": max(query.start - total, 1), "count": max(query.count - len(docs), 0)}
        )
        try:
            found, rows, related = search.search(
                rt, resource, tid, sub, _related_wanted(resource, sub), setting("SCIM_LIST_MEMBERS_MAX")
            )
        except ScimError as exc:
            if len(resources) == 1:
                raise
            errors.append(exc)  # a root filter may name attributes only one type has
            continue
        docs += _documents(resource, rows, related, query)
        total += found
    if errors and len(errors) == len(resources):
        raise errors[0]
    body = {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": len(docs),
        "startIndex": query.start,
        "Resources": docs,
    }
    return scim_response(body)


def _search_body() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidSyntaxError("A search request must be a JSON object (RFC 7644 §3.4.3).")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or SEARCH_SCHEMA not in schemas):
        raise InvalidSyntaxError(f'schemas must be ["{SEARCH_SCHEMA}"].')
    return body


@bp.get("/Users")
def list_users():
    return _list(["User"], request.args)


@bp.get("/Groups")
def list_groups():
    return _list(["Group"], request.args)


@bp.post("/Users/.search")
def search_users():
    return _list(["User"], _search_body())


@bp.post("/Groups/.search")
def search_groups():
    return _list(["Group"], _search_body())


@bp.post("/.search")
def search_everything():
    return _list(["User", "Group"], _search_body())
