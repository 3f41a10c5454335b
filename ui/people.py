"""People: the users a principal may see (a manager's "Shared with me"), one person's page, batch actions on them.

Which users those are is decided by :func:`provisioning.permissions.user_scope`: the
whole tenant for admins; for a manager the members of their groups, the users shared with them
(``share {manager_id}``) and themselves.  Anything else is refused by the server, not only hidden.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import ngettext

from provisioning import course_progress, permissions
from provisioning import people as people_service
from provisioning.errors import Conflict, DomainError, Forbidden, InvalidInput, InvalidText
from provisioning.services import courses, users
from ui.batch import (
    LABELS,
    allowed_actions,
    chosen_action,
    confirm_or_start,
    form_params,
    param_fields,
    selected_ids,
)
from ui.blueprint import ID, bp, rule
from ui.groups import page_number
from ui.guard import actor, domain_error, principal, rt, ui_url


def _may_view_people() -> None:
    p = principal()
    if not permissions.can(rt(), p, "view_users"):
        raise Forbidden(permissions.refusal("view_users"))


@bp.get("/people")
@rule("view_users")
def people():
    """Users the principal may see; ``shared=1`` narrows a manager's list to the users shared with them."""
    _may_view_people()
    p = principal()
    q = (request.args.get("q") or "").strip()[:320]
    shared = request.args.get("shared") == "1" and p.role == "manager"
    scope = permissions.shared_scope(p) if shared else permissions.user_scope(p)
    department = (request.args.get("department") or "").strip()[:200]
    page = users.list_users(
        rt(), p.tenant_id, q=q or None, department=department or None, page=page_number(), per_page=50, within=scope
    )
    ids = [u.id for u in page.items]
    return render_template(
        "ui/people.html",
        page=page,
        q=q,
        department=department,
        departments=users.departments(rt(), p.tenant_id, within=scope),
        department_choices=users.DEPARTMENT_CHOICES,
        shared=shared,
        actions=allowed_actions(),
        shared_ids=permissions.is_shared_with(rt(), p, ids),
        labels=LABELS,
        fields=param_fields(),
        group=None,
        user_courses=courses.course_titles_of_users(rt(), p.tenant_id, ids),
    )


def _changed_course() -> int | None:
    raw = request.args.get("progress") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@bp.get(f"/people/<{ID}:user_id>")
@rule("view_person")
def person(user_id: int):
    """One person: their details, the groups of theirs the principal may see, courses, tasks, certificates, notifications."""
    return render_template(
        "ui/person.html",
        person=people_service.person(rt(), principal(), user_id),
        saved=request.args.get("saved") == "1",
        changed_course=_changed_course(),
        today=course_progress.today().isoformat(),
        progress_errors={},
        progress_form={},
    )


@bp.post(f"/people/<{ID}:user_id>/courses")
@rule("manage_users")
def person_progress(user_id: int):
    """Change the person's progress in a course (enrol, completed on a date, back to in progress): the admin
    API's enrollment service; the page then says what was done.  Errors are shown on the page (400)."""
    form = {k: v for k, v in request.form.items() if k not in ("csrf", "lt")}
    try:
        saved = course_progress.change_progress(rt(), principal(), actor(), user_id, form)
    except InvalidInput as exc:
        return render_template(
            "ui/person.html",
            person=people_service.person(rt(), principal(), user_id),
            saved=False,
            changed_course=None,
            today=course_progress.today().isoformat(),
            progress_errors=exc.details if isinstance(exc.details, dict) else {},
            progress_form=form,
            message=exc.message,
        ), 400
    return redirect(ui_url("ui.person", user_id=user_id, progress=saved.course_id, _anchor="h-courses"))


@bp.get(f"/people/<{ID}:user_id>/edit")
@rule("manage_users")
def person_edit(user_id: int):
    """The form that edits a person's details: only the fields the principal may change are open."""
    found = people_service.person(rt(), principal(), user_id)
    if not found.editable:
        raise Forbidden("You can't change this person's details.")
    return render_template("ui/person_edit.html", person=found, values={}, errors={})


@bp.post(f"/people/<{ID}:user_id>/edit")
@rule("manage_users")
def person_save(user_id: int):
    """Save the form; errors are shown beside their fields, with what was typed kept."""
    form = {k: v for k, v in request.form.items() if k not in ("csrf", "lt")}
    try:
        people_service.edit_person(rt(), principal(), actor(), user_id, form)
    except (InvalidInput, Conflict) as exc:
        return _form_again(user_id, form, exc)
    return redirect(ui_url("ui.person", user_id=user_id, saved=1))


def _form_again(user_id: int, form: dict[str, str], exc: InvalidInput | Conflict):
    """The form with what was typed and each error beside its field: 400, or 409 for a taken address."""
    found = people_service.person(rt(), principal(), user_id)
    if not found.editable:
        raise Forbidden("You can't change this person's details.")
    errors = exc.details if isinstance(exc.details, dict) else {}
    status = 409 if isinstance(exc, Conflict) else 400
    return render_template("ui/person_edit.html", person=found, values=form, errors=errors, message=exc.message), status


@bp.errorhandler(InvalidText)
def text_refused(exc: InvalidText):
    """A NUL in the person form is refused before the view runs (web/text_input.py); say so beside the field."""
    if request.endpoint == "ui.person_save" and request.view_args and exc.field in request.form:
        form = {k: v for k, v in request.form.items() if k not in ("csrf", "lt")}
        try:
            return _form_again(request.view_args["user_id"], form, exc)
        except DomainError as refused:  # an error handler's own exception is not handled again
            return domain_error(refused)
    return domain_error(exc)


@bp.post("/people/batch")
@rule("batch_actions")
def people_batch():
    """Confirm, then start a batch action on selected people; every one must be someone the principal may see."""
    _may_view_people()
    p = principal()
    if not permissions.can(rt(), p, "batch_actions"):
        raise Forbidden(permissions.refusal("batch_actions"))
    action = chosen_action()
    wanted = sorted(set(selected_ids()))
    user_ids = permissions.visible_user_ids(rt(), p, wanted)
    if len(user_ids) != len(wanted):
        raise Forbidden(
            ngettext(
                "You don't have access to %(num)s of the selected people.",
                "You don't have access to %(num)s of the selected people.",
                len(wanted) - len(user_ids),
            )
        )
    params = form_params(action)
    back = ui_url("ui.people", shared=1) if request.form.get("shared") == "1" else ui_url("ui.people")
    return confirm_or_start(action, params, user_ids, action_url=url_for("ui.people_batch"), back_url=back)


@bp.get("/shared")
@rule("view_users")
def shared_with_me():
    return redirect(ui_url("ui.people", shared=1))
