"""The one declaration of the tenant settings: defaults, stored values this version can't read, CLI values."""

from __future__ import annotations

import pytest

from provisioning.settings_catalog import (
    DEFAULT_MANAGER_PERMISSIONS,
    SettingErrors,
    apply,
    check_changes,
    parse_cli_value,
    stored,
)


def test_unset_settings_read_as_their_defaults():
    assert stored({}, "default_language") == "en" and stored(None, "join_url") is None
    assert stored({"lti": {}}, "manager_permissions") == list(DEFAULT_MANAGER_PERMISSIONS)


def test_an_unreadable_admin_roles_value_grants_nothing_and_a_dropped_permission_is_ignored():
    assert stored({"lti": {"admin_roles": "not a list"}}, "admin_roles") == []
    assert stored({"lti": {"manager_permissions": ["export", "retired_power"]}}, "manager_permissions") == ["export"]


def test_apply_writes_each_key_at_its_path_and_none_removes_it():
    settings = {"lti": {"unknown_deployments": "record"}, "join_url": "https://a.example"}
    out = apply(settings, {"manager_permissions": ["upload"], "join_url": None})
    assert out == {"lti": {"unknown_deployments": "record", "manager_permissions": ["upload"]}}
    assert settings["join_url"] == "https://a.example"  # the original is left alone


def test_every_problem_is_named_by_its_key():
    with pytest.raises(SettingErrors) as refused:
        check_changes({"join_url": "javascript:alert(1)", "seats": 3, "nope": 1}, ["default_language", "nope2"])
    assert set(refused.value.errors) == {"join_url", "seats", "nope", "nope2"}


def test_cli_values_are_text_or_lists():
    assert parse_cli_value("manager_permissions", "view_users, export") == ["view_users", "export"]
    assert parse_cli_value("admin_roles", "") == [] and parse_cli_value("admin_roles", '["a"]') == ["a"]
    assert parse_cli_value("sender_name", "Acme, Inc.") == "Acme, Inc."
    with pytest.raises(SettingErrors):
        parse_cli_value("admin_roles", "[broken")
