"""A group's page: members, add and remove, batch actions with a confirmation, message, CSV download."""

from __future__ import annotations

from flask import (
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from provisioning import permissions, pickers
from provisioning.batch import departments, messages
from provisioning.errors import InvalidInput
from provisioning.exports import (
    MEMBER_HEADER,
    XLSX_MIMETYPE,
    attachment,
    csv_lines,
    file_chunks,
    group_title,
    member_rows,
    xlsx_file,
)
from provisioning.imports import bulk_add
from provisioning.lti import roster as lti_roster
from provisioning.rules import definition as rule_definition
from provisioning.rules import editing
from provisioning.services import courses, group_invitations, group_managers, groups, memberships, users
from ui.batch import (
    LABELS,
    allowed_actions,
    chosen_action,
    confirm_or_start,
    form_params,
    managed_group,
    param_fields,
    selected_ids,
)
from ui.blueprint import ID, bp, rule
from ui.group_managers import PERMISSION_WORDS
from ui.groups import page_number, rule_editor_url
from ui.guard import actor, principal, rt, ui_url
from ui.pickers import picked_group

_group = managed_group


@bp.get(f"/groups/<{ID}:group_id>")
@rule("view_group")
def group(group_id: int):
    """The group, a page of its members, and the forms that act on them."""
    p = principal()
    grp = _group(group_id, "view_group")
    if not permissions.can(rt(), p, "view_members", grp):
        # A learner sees their own group's name and their own membership, never their classmates.
        return render_template(
            "ui/group_member.html",
            group=grp,
            member=bool(memberships.member_ids_among(rt(), p.tenant_id, group_id, [p.user_id])),
        )
    q = (request.args.get("q") or "").strip()[:320]
    members = memberships.list_members(rt(), p.tenant_id, group_id, q=q or None, page=page_number(), per_page=50)
    member_courses = courses.course_titles_of_users(rt(), p.tenant_id, [u.id for u, _ in members.items])
    may_assign = permissions.can(rt(), p, "assign_managers", grp)
    mq = (request.args.get("mq") or "").strip()[:200] if may_assign else ""
    return render_template(
        "ui/group.html",
        group=grp,
        managers=group_managers.managers_of_groups(rt(), p.tenant_id, [group_id]).get(group_id, []),
        may_assign=may_assign,
        may_edit=permissions.can(rt(), p, "edit_group", grp),
        permission_set=group_managers.permission_set(rt(), p.tenant_id) if may_assign else (),
        permission_words=PERMISSION_WORDS,
        mq=mq,
        candidates=group_managers.find_people(rt(), p.tenant_id, mq) if mq else [],
        state=groups.evaluation_status(rt(), p.tenant_id, group_id),
        rule_url=rule_editor_url(group_id) if grp.kind == "automatic" else None,
        members=members,
        q=q,
        actions=allowed_actions(),
        courses=courses.courses_of_groups(rt(), p.tenant_id, [group_id]).get(group_id, []),
        member_courses=member_courses,
        # Members on an automatic group's include list read "Always included" (as the API's source says),
        # whichever way they were put there: the rule never removes them.
        included=rule_definition.always_included(rt(), p.tenant_id, group_id),
        can_sync=permissions.can(rt(), p, "sync_roster", grp),
        labels=LABELS,
        fields=param_fields(),
        may_copy_from=bool(pickers.find_groups(rt(), p, "", exclude=[group_id], limit=1)),
        departments=users.departments(rt(), p.tenant_id, within=permissions.user_scope(p))
        if permissions.can(rt(), p, "manage_group", grp) and grp.kind != "automatic"
        else [],
        department_choices=users.DEPARTMENT_CHOICES,
        can_manage=permissions.can(rt(), p, "manage_group", grp),
        invitations=group_invitations.pending_invitations(rt(), p.tenant_id, group_id)
        if permissions.can(rt(), p, "manage_group", grp)
        else [],
        can_export=permissions.can(rt(), p, "export", grp),
        can_message=permissions.can(rt(), p, "message", grp),
        described=editing.describe_rule(rt(), p.tenant_id, grp.rule or "") if grp.kind == "automatic" else None,
    )


@bp.post(f"/groups/<{ID}:group_id>/members")
@rule("manage_group")
def add_member(group_id: int):
    """Add a person by email, or invite them to the group: the answer is the same whoever has the email
    (provisioning/services/group_invitations.py, docs/PERMISSIONS.md)."""
    _group(group_id, "manage_group")
    p = principal()
    # The names are for a person the address creates (invited), never a change to an existing person.
    names = group_invitations.clean_names(request.form.get("first_name") or "", request.form.get("last_name") or "")
    email = group_invitations.add_or_invite(
        rt(),
        p.tenant_id,
        group_id,
        request.form.get("email") or "",
        actor(),
        users_within=permissions.user_scope(p),
        names=names,
    )
    # An admin's person is added (an unknown address becomes an invited member); a manager reads one answer.
    said = {"added": email} if p.role == "admin" else {"invited": email}
    return redirect(ui_url("ui.group", group_id=group_id, **said))


@bp.post(f"/groups/<{ID}:group_id>/members/bulk")
@rule("manage_group")
def bulk_add_members(group_id: int):
    """Bulk add members from the filled-in members template: an Operation, followed on its page and in
    the user action log; each row is added or invited as one added by email (provisioning/imports/bulk_add.py)."""
    _group(group_id, "manage_group")
    p = principal()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput(_("Choose the filled-in template to upload."), details={"file": [_("Required.")]})
    op = bulk_add.request_bulk_add(
        rt(),
        p.tenant_id,
        group_id,
        upload.stream,
        upload.filename,
        actor(),
        users_within=permissions.user_scope(p),
    )
    return redirect(ui_url("ui.operation", operation_id=op.id, back=ui_url("ui.group", group_id=group_id)))


@bp.post(f"/groups/<{ID}:group_id>/members/<{ID}:user_id>/remove")
@rule("manage_group")
def remove_member(group_id: int, user_id: int):
    _group(group_id, "manage_group")
    memberships.remove_member(rt(), principal().tenant_id, group_id, user_id, actor())
    return redirect(ui_url("ui.group", group_id=group_id, removed=user_id))


@bp.post(f"/groups/<{ID}:group_id>/batch")
@rule("batch_actions")
def batch(group_id: int):
    """Confirm, then start a batch action on the selected members (only members of this group count)."""
    grp = _group(group_id, "batch_actions")
    action = chosen_action()
    user_ids = memberships.member_ids_among(rt(), principal().tenant_id, group_id, selected_ids())
    if not user_ids:
        raise InvalidInput(_("Select at least one member of this group."), details={"user_ids": [_("Select members.")]})
    params = form_params(action, group_id)
    return confirm_or_start(
        action,
        params,
        user_ids,
        action_url=url_for("ui.batch", group_id=group_id),
        back_url=ui_url("ui.group", group_id=group_id),
        group=grp,
    )


@bp.post(f"/groups/<{ID}:group_id>/sync")
@rule("sync_roster")
def sync_roster(group_id: int):
    """Sync the roster of the group's course from the LMS now."""
    _group(group_id, "sync_roster")
    linked = courses.courses_of_groups(rt(), principal().tenant_id, [group_id]).get(group_id)
    if not linked:
        raise InvalidInput(_("This group is not linked to a course, so it has no roster to sync."))
    op = lti_roster.request_roster_sync(
        rt(), principal().tenant_id, linked[0].external_id, actor(), requested_by=principal().user_id or None
    )
    return redirect(ui_url("ui.operation", operation_id=op.id, back=ui_url("ui.group", group_id=group_id)))


@bp.post(f"/groups/<{ID}:group_id>/message")
@rule("message")
def message(group_id: int):
    _group(group_id, "message")
    op = messages.request_group_message(
        rt(),
        principal().tenant_id,
        group_id,
        request.form.get("subject") or "",
        request.form.get("body") or "",
        actor(),
    )
    return redirect(ui_url("ui.operation", operation_id=op.id))


@bp.get(f"/groups/<{ID}:group_id>/members.csv")
@rule("export")
def members_csv(group_id: int):
    """The members as CSV (the same rows as the admin export), streamed."""
    _group(group_id, "export")
    title = group_title(rt(), principal().tenant_id, group_id)
    body = csv_lines(MEMBER_HEADER, member_rows(rt(), principal().tenant_id, group_id))
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": attachment(title, "-members.csv", f"group-{group_id}")},
    )


@bp.get(f"/groups/<{ID}:group_id>/members.xlsx")
@rule("export")
def members_xlsx(group_id: int):
    """The members as an Excel workbook."""
    _group(group_id, "export")
    title = group_title(rt(), principal().tenant_id, group_id)
    fh = xlsx_file(MEMBER_HEADER, member_rows(rt(), principal().tenant_id, group_id), title=title)
    return Response(
        file_chunks(fh),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": attachment(title, "-members.xlsx", f"group-{group_id}")},
    )


@bp.post(f"/groups/<{ID}:group_id>/copy")
@rule("manage_group")
def copy_members(group_id: int):
    """Copy every member of another group (one the principal may see) into this one, as an Operation."""
    _group(group_id, "manage_group")
    words = _("Copy members from another group")
    source = picked_group(request.form, "from_group_id", label=words, exclude=[group_id])
    if source is None:
        raise InvalidInput(_("Choose the group to copy members from."), details={words: [_("Choose a group.")]})
    _group(source, "view_group")
    op = memberships.request_copy(rt(), principal().tenant_id, group_id, source, actor())
    return redirect(ui_url("ui.operation", operation_id=op.id, back=ui_url("ui.group", group_id=group_id)))


@bp.post(f"/groups/<{ID}:group_id>/copy-department")
@rule("manage_group")
def copy_department(group_id: int):
    """Add the active people of a department (those the principal may act on) to this group, as an
    Operation: the "Add to groups" batch action (provisioning/batch/departments.py)."""
    _group(group_id, "manage_group")
    p = principal()
    department, scope = request.form.get("department") or "", permissions.user_scope(p)
    op = departments.request_department_copy(rt(), p.tenant_id, group_id, department, actor(), users_within=scope)
    return redirect(ui_url("ui.operation", operation_id=op.id, back=ui_url("ui.group", group_id=group_id)))
