"""The UI's language (ui/i18n.py): the person's own setting, else the tenant's default, else English,
each only among the languages that have a catalog; the page says which in <html lang>."""

from __future__ import annotations

import re

import pytest

import ui.i18n
from provisioning.activity import Actor
from provisioning.models import Tenant
from provisioning.services import users
from tests.support.personas import school

ACTOR = Actor("test", "api")


@pytest.fixture
def catalogs(tmp_path, monkeypatch):
    """German and Spanish catalog folders (empty: the words stay English, the choice shows in <html lang>)."""
    for lang in ("de", "es"):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
    monkeypatch.setattr(ui.i18n, "TRANSLATIONS", tmp_path)
    return tmp_path


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True)).group(1)


def _default_language(rt, tenant_id: int, value: str | None) -> None:
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "default_language": value}


def _language(rt, tenant_id: int, user_id: int, value: str | None) -> None:
    users.update_user(rt, tenant_id, user_id, {"language": value}, ACTOR)


def test_the_persons_own_language_comes_first_then_the_tenant_default_then_english(
    rt, app, client, tenant, platform, catalogs
):
    sch = school(rt, app, client, tenant, platform)
    admin = sch.admin
    assert _lang(admin.session.get("/ui/groups")) == "en"
    _default_language(rt, tenant.id, "es")
    assert _lang(admin.session.get("/ui/groups")) == "es"
    _language(rt, tenant.id, admin.user_id, "de-AT")  # a regional tag falls back to its language
    assert _lang(admin.session.get("/ui/groups")) == "de"
    _language(rt, tenant.id, admin.user_id, "fr")  # no French catalog: the tenant's default
    assert _lang(admin.session.get("/ui/groups")) == "es"


def test_without_catalogs_every_page_is_english(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    _default_language(rt, tenant.id, "de")
    _language(rt, tenant.id, sch.admin.user_id, "es")
    assert _lang(sch.admin.session.get("/ui/groups")) == "en"
