"""/Groups (RFC 7644 §3.3-§3.6).  Members change through the set-based membership service."""

from __future__ import annotations

from flask import request

from provisioning.errors import VersionMismatch
from provisioning.services import directory, groups, memberships
from scim.auth import actor, runtime, tenant_id
from scim.blueprint import (
    base_url,
    bp,
    check_members_named,
    if_match_version,
    json_body,
    not_modified,
    resource_id,
    scim_response,
)
from scim.patch import GROUP, apply_operations, member_steps, parse_operations
from scim.projection import parse_list, project, wants
from scim.resources import group_document, group_values, member_entry, member_ids, members_named

SOURCE = "scim"


def render(group, members, status: int = 200, params=None):
    params = request.args if params is None else params
    base = base_url()
    doc = group_document(group, base, None if members is None else [member_entry(u, base) for u in members])
    doc = project(doc, parse_list(params.get("attributes")), parse_list(params.get("excludedAttributes")))
    return scim_response(
        doc,
        status,
        version=group.version,
        location=doc["meta"]["location"] if status == 201 and "meta" in doc else None,
    )


def wants_members(params) -> bool:
    # Entra ID reads groups with excludedAttributes=members: then members are not even loaded.
    return wants("members", parse_list(params.get("attributes")), parse_list(params.get("excludedAttributes")))


def _members_of(body) -> list[int]:
    key = (
        next((k for k in body if isinstance(k, str) and k.lower() == "members"), None)
        if isinstance(body, dict)
        else None
    )
    return member_ids(body.get(key)) if key else []


@bp.post("/Groups")
def create_group():
    body = json_body()
    check_members_named(members_named(body, patch=False), "This group")
    values = group_values(body)
    group = memberships.create_group_with_members(
        runtime(), tenant_id(), {**values, "source": SOURCE}, _members_of(body), actor(), source=SOURCE, reevaluate=True
    )
    return _render_fresh(group.id, 201)


@bp.get("/Groups/<raw_id>")
def get_group(raw_id: str):
    group, members = directory.load_group(
        runtime(), tenant_id(), resource_id(raw_id, "group"), wants_members(request.args)
    )
    return not_modified(group.version) or render(group, members)


@bp.put("/Groups/<raw_id>")
def replace_group(raw_id: str):
    group_id = resource_id(raw_id, "group")
    body = json_body()
    check_members_named(members_named(body, patch=False), "This group")
    values = group_values(body)
    memberships.edit_group(
        runtime(),
        tenant_id(),
        group_id,
        values=values,
        member_steps=[("replace", _members_of(body))],
        actor=actor(),
        source=SOURCE,
        if_version=if_match_version(),
        reevaluate=True,
    )
    return _render_fresh(group_id)


@bp.patch("/Groups/<raw_id>")
def patch_group(raw_id: str):
    group_id = resource_id(raw_id, "group")
    body = json_body()
    check_members_named(members_named(body, patch=True), "This PATCH")
    other_ops, steps = member_steps(parse_operations(body, GROUP))
    required = if_match_version()
    values = None
    if other_ops:
        current, _ = directory.load_group(runtime(), tenant_id(), group_id, False)
        if required is not None and current.version != required:
            raise VersionMismatch(f"Group {group_id} is at version {current.version}, not {required}.")
        values = group_values(apply_operations(group_document(current, base_url()), other_ops, GROUP))
    # Rules may test membership of this group: the members named are re-evaluated in the same
    # unit of work (a "remove all" names nobody; the periodic full evaluation catches it).
    group = memberships.edit_group(
        runtime(),
        tenant_id(),
        group_id,
        values=values,
        member_steps=steps,
        actor=actor(),
        source=SOURCE,
        if_version=required,
        reevaluate=True,
    )
    if "attributes" in request.args or "excludedAttributes" in request.args:
        return _render_fresh(group_id)
    # RFC 7644 §3.5.2 allows 204, which Entra ID and Okta expect for groups: a member change of a
    # 100,000-member group must not answer with (and so load) all 100,000 members.
    response = scim_response(None, 204, version=group.version)
    response.set_data(b"")
    return response


def _render_fresh(group_id: int, status: int = 200):
    group, members = directory.load_group(runtime(), tenant_id(), group_id, wants_members(request.args))
    return render(group, members, status)


@bp.delete("/Groups/<raw_id>")
def delete_group(raw_id: str):
    groups.delete_group(runtime(), tenant_id(), resource_id(raw_id, "group"), actor(), if_version=if_match_version())
    return "", 204
