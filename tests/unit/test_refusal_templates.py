"""Every refusal the core raises, and every field or row message it gives, is a template marked for
translation with named values, never a finished English sentence (provisioning/errors.py): an f-string
refusal would reach a German page in English."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import provisioning
from provisioning import errors

CORE = Path(provisioning.__file__).resolve().parent
REFUSALS = {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.DomainError)}
# Calls that make a stored sentence (an upload's row error, a row's status, a file-level refusal).
SENTENCES = {"Message": 0, "error": 3, "mark_rows": 3, "mark_staged": 3, "_mark": 3, "file_error": 0, "sql_sentence": 0}
# The rule language's errors (provisioning/filters, provisioning/rules): the rule builder says them too.
SENTENCES |= {"InvalidFilter": 0, "InvalidCondition": 0}


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _marked(node: ast.expr) -> bool:
    """``N_("...")`` with a literal, or a choice between two of them."""
    if isinstance(node, ast.IfExp):
        return _marked(node.body) and _marked(node.orelse)
    return (
        isinstance(node, ast.Call)
        and _name(node.func) == "N_"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _problem(node: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    """Why ``node`` is not an acceptable message argument, or None."""
    if _marked(node):
        return None
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Constant):
        return "an unmarked literal"
    if isinstance(node, ast.BinOp):
        return "a sentence built with + or %"
    if isinstance(node, ast.Call) and _name(node.func) in ("format", "str", "join"):
        return f"a sentence built with {_name(node.func)}()"
    if isinstance(node, ast.Name) and node.id in constants and not _marked(constants[node.id]):
        return f"the module constant {node.id}, which is not marked with N_"
    return None  # a Message made elsewhere, passed on (exc.message, a variable holding one)


def problems(source: str, filename: str = "<source>") -> list[str]:
    """Each refusal or stored sentence in ``source`` not made from a marked template."""
    tree = ast.parse(source)
    constants = {
        target.id: stmt.value
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        # A field's messages: ``errors["email"] = [...]``, shown beside the field.
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and _name(node.targets[0].value) == "errors"
            and isinstance(node.value, ast.List)
        ):
            for element in node.value.elts:
                why = _problem(element, constants)
                if why:
                    found.append(f"{filename}:{node.lineno}: errors[...] is given {why}")
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        index = 0 if name in REFUSALS else SENTENCES.get(name or "")
        if index is None or len(node.args) <= index:
            continue
        why = _problem(node.args[index], constants)
        if why:
            found.append(f"{filename}:{node.lineno}: {name}(...) is given {why}")
    return found


def _core_sources():
    for path in sorted(CORE.rglob("*.py")):
        if path.name != "errors.py":
            yield path, path.read_text(encoding="utf-8")


def test_every_refusal_in_the_core_is_a_marked_template():
    found = [p for path, source in _core_sources() for p in problems(source, str(path.relative_to(CORE.parent)))]
    assert found == []


def test_the_scan_sees_the_cores_refusals():
    raised = sum(
        1
        for _, source in _core_sources()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and _name(node.func) in REFUSALS
    )
    assert raised > 150  # the scan reads the real code, not an empty tree


def test_the_scan_refuses_each_way_of_building_an_english_sentence():
    source = """
PLAIN = "No such thing."
MARKED = N_("No such thing.")
raise Conflict(f"A course with external_id {external_id!r} already exists.")
raise NotFound("No group with id 7.")
raise InvalidInput("Some settings were not changed: " + str(exc))
raise Forbidden("You may not {what}.".format(what=what))
raise Forbidden(PLAIN)
mark_rows(s, rows, "error", f"Not created: {exc.message}")
error(row_no, column, value, "The email is missing.")
raise Forbidden(MARKED)
raise Conflict(N_("A group named %(name)r already exists."), name=name, field="name")
raise InvalidInput(exc.message, details=exc.details)
error(row_no, column, value, Message(N_("At most %(most)s characters."), most=10))
errors["email"] = [f"{email!r} is not an email address."]
errors["email"] = [N_("Required.")]
"""
    found = {int(line.split(":")[1]): line for line in problems(source)}
    assert sorted(found) == [4, 5, 6, 7, 8, 9, 10, 15]
    assert "an f-string" in found[4] and "not marked with N_" in found[8] and "errors[...]" in found[15]
