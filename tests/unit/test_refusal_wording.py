"""Every refusal the permission decision gives is a sentence for people, never an internal action name."""

from __future__ import annotations

import pytest

from provisioning import permissions
from provisioning.models import Group, User


@pytest.mark.parametrize("action", [a for a in permissions.ACTIONS if a != permissions.PUBLIC])
@pytest.mark.parametrize(
    "obj", [None, Group(name="Biology"), User(email="kim@example.edu")], ids=["none", "group", "user"]
)
def test_each_action_is_refused_with_a_sentence_for_people(action, obj):
    text = permissions.refusal(action, obj)
    assert text.startswith("You ") and text.endswith("."), text
    assert "_" not in text and "{" not in text and "may not" not in text, text
    assert f"{action.replace('_', ' ')} here" not in text, text  # the old "You may not view own here."


def test_a_person_is_refused_as_a_person_and_a_group_as_a_group():
    assert permissions.refusal("view_own", User()) == "You don't have access to this person."
    assert permissions.refusal("view_person", User()) == "You don't have access to this person."
    assert permissions.refusal("view_group", Group()) == "You don't have access to this group."
