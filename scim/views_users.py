"""/Users (RFC 7644 §3.3-§3.6): create, read, replace, patch, delete."""

from __future__ import annotations

from flask import request

from provisioning.services import directory, users
from scim.auth import actor, runtime, tenant_id
from scim.blueprint import (
    base_url,
    bp,
    if_match_version,
    json_body,
    not_modified,
    resource_id,
    scim_response,
)
from scim.patch import USER, apply_operations, parse_operations
from scim.projection import parse_list, project, wants
from scim.resources import group_entry, user_document, user_values


def render(user, groups, status: int = 200, params=None):
    params = request.args if params is None else params
    base = base_url()
    doc = user_document(user, base, None if groups is None else [group_entry(g, n, base) for g, n in groups])
    doc = project(doc, parse_list(params.get("attributes")), parse_list(params.get("excludedAttributes")))
    return scim_response(
        doc, status, version=user.version, location=doc["meta"]["location"] if status == 201 and "meta" in doc else None
    )


def _wants_groups(params) -> bool:
    return wants("groups", parse_list(params.get("attributes")), parse_list(params.get("excludedAttributes")))


@bp.post("/Users")
def create_user():
    values = user_values(json_body())
    # Automatic groups follow every change: re-evaluated in the same unit of work.
    user = users.create_user(runtime(), tenant_id(), values, actor(), reevaluate=True, idp_roles=True)
    return _render_saved(user, 201)


@bp.get("/Users/<raw_id>")
def get_user(raw_id: str):
    user, groups = directory.load_user(runtime(), tenant_id(), resource_id(raw_id, "user"), _wants_groups(request.args))
    return not_modified(user.version) or render(user, groups)


@bp.put("/Users/<raw_id>")
def replace_user(raw_id: str):
    user_id = resource_id(raw_id, "user")
    values = user_values(json_body())
    user = users.update_user(
        runtime(), tenant_id(), user_id, values, actor(), if_version=if_match_version(), reevaluate=True, idp_roles=True
    )
    return _render_saved(user)


@bp.patch("/Users/<raw_id>")
def patch_user(raw_id: str):
    user_id = resource_id(raw_id, "user")
    ops = parse_operations(json_body(), USER)
    base = base_url()

    def patched(current) -> dict:
        # Applied to the user as locked by the update, so no concurrent change is lost.
        before = user_document(current, base)
        after = apply_operations(before, ops, USER)
        values = user_values(after)
        if "emails" not in (current.extra or {}) and after.get("emails") == before.get("emails"):
            # The document lists the stored primary email as "emails"; unchanged, it is not new data.
            values["extra"].pop("emails", None)
        return values

    user = users.change_user(
        runtime(),
        tenant_id(),
        user_id,
        patched,
        actor(),
        if_version=if_match_version(),
        reevaluate=True,
        idp_roles=True,
    )
    return _render_saved(user)


def _render_saved(user, status: int = 200):
    """The user as the change left it (the service returns it loaded as committed), with its groups."""
    groups = directory.user_groups(runtime(), tenant_id(), user.id) if _wants_groups(request.args) else None
    return render(user, groups, status)


@bp.delete("/Users/<raw_id>")
def delete_user(raw_id: str):
    users.delete_user(runtime(), tenant_id(), resource_id(raw_id, "user"), actor(), if_version=if_match_version())
    return "", 204
