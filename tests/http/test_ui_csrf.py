"""CSRF on every UI form, generated from the URL map: a POST without the page's token is a 403
and changes nothing.  The token is an HMAC of the caller's own launch token (lti/ui/guard.py), so
neither a made-up token nor another session's token passes."""

from __future__ import annotations

import re

import pytest

from server.app import create_app
from tests.support.isolation import UI_FORMS, World, snapshot
from tests.support.signin import sign_in


def _post_rules():
    app = create_app({"database_url": "sqlite://", "secret_key": "collect-only", "jobs_sweep_interval": 0})
    return [
        pytest.param(rule.rule, rule.endpoint, id=rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/ui/") and "POST" in rule.methods
    ]


def test_the_url_map_has_ui_forms():
    assert len(_post_rules()) >= 10


@pytest.mark.parametrize("rule, endpoint", _post_rules())
def test_a_ui_post_without_its_sessions_csrf_token_is_refused_and_changes_nothing(
    rt, client, tenant, other_tenant, rule, endpoint
):
    world = World(rt, client, tenant, other_tenant)
    values = {arg: world.id("a", arg) for arg in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)}
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)
    form = {"name": "Forged", "kind": "manual", **UI_FORMS.get(endpoint, lambda w: {})(world)}
    me, someone_else = sign_in(client, rt, tenant.id), sign_in(client, rt, other_tenant.id)
    before = snapshot(rt)
    for csrf in (None, "", "0" * 64, someone_else.csrf()):
        data = {"lt": me.token, **form, **({} if csrf is None else {"csrf": csrf})}
        r = client.post(path, data=data)
        assert r.status_code == 403, (csrf, r.status_code, r.get_data(as_text=True)[:200])
        assert "security token" in r.get_data(as_text=True)
        assert snapshot(rt) == before
