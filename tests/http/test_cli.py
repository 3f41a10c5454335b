"""The ``provisioning`` command through click's CliRunner, on the test database."""

from __future__ import annotations

import secrets

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from provisioning import operations
from provisioning.activity import Actor
from provisioning.models import ApiToken
from provisioning.services import groups, memberships, users
from provisioning.services.tokens import hash_token
from server.cli import CliState, cli, main
from tests.support.signin import press_sign_in


@pytest.fixture
def run(rt):
    """Run a CLI command against the test Runtime; returns click's Result."""

    def invoke(*args: str, state: CliState | None = None):
        return CliRunner().invoke(cli, list(args), obj=state or CliState(runtime=rt))

    return invoke


def fields(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def assert_refused(result, exit_code: int, *phrases: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.stderr


def test_tenants_create_prints_the_id_and_slug_and_the_tenant_is_listed(run):
    result = run("tenants", "create", "Acme University", "--seats", "100")
    assert result.exit_code == 0, result.output
    created = fields(result.stdout)
    assert created["slug"] == "acme-university" and created["id"].isdigit()
    listing = run("tenants", "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "SLUG", "SEATS", "CREATED", "NAME"]
    assert listing[1].split()[:3] == [created["id"], "acme-university", "100"]


def test_a_second_tenant_with_the_same_slug_is_refused_with_a_message_not_a_traceback(run):
    assert run("tenants", "create", "Acme").exit_code == 0
    assert_refused(run("tenants", "create", "ACME"), 1, "already exists")


def test_a_negative_seat_limit_is_refused_naming_the_field(run):
    assert_refused(run("tenants", "create", "Acme", "--seats", "-1"), 1, "seat_limit")


def test_a_created_admin_token_is_printed_alone_on_the_last_line_and_opens_the_admin_api(run, client):
    run("tenants", "create", "Acme")
    result = run("tokens", "create", "acme", "--scope", "admin", "--name", "ops laptop")
    assert result.exit_code == 0, result.output
    token = result.stdout.rstrip("\n").splitlines()[-1]
    assert token.startswith("prov_") and " " not in token
    response = client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["total"] == 0


def test_a_scim_token_is_refused_by_the_admin_api(run, client):
    run("tenants", "create", "Acme")
    token = run("tokens", "create", "acme", "--scope", "scim").stdout.splitlines()[-1]
    assert client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_an_unknown_scope_or_tenant_is_refused(run):
    run("tenants", "create", "Acme")
    assert run("tokens", "create", "acme", "--scope", "root").exit_code == 2
    assert_refused(run("tokens", "create", "nowhere", "--scope", "admin"), 1, "No tenant 'nowhere'")


def test_a_revoked_token_no_longer_authenticates(run, client):
    run("tenants", "create", "Acme")
    token = run("tokens", "create", "acme", "--scope", "admin").stdout.splitlines()[-1]
    token_id = run("tokens", "list", "acme").stdout.splitlines()[1].split()[0]
    result = run("tokens", "revoke", token_id)
    assert result.exit_code == 0 and f"Revoked token {token_id}" in result.stdout
    assert client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in run("tokens", "list").stdout


def test_revoking_an_unknown_token_exits_with_1_and_a_message(run):
    assert_refused(run("tokens", "revoke", "999999"), 1, "No token with id 999999")


def test_tokens_list_shows_one_tenants_tokens_and_never_their_secret_or_hash(rt, run):
    run("tenants", "create", "Acme")
    run("tenants", "create", "Other")
    acme_token = run("tokens", "create", "acme", "--scope", "admin", "--name", "acme-admin").stdout.splitlines()[-1]
    run("tokens", "create", "other", "--scope", "scim", "--name", "other-scim")
    everything = run("tokens", "list").stdout
    only_acme = run("tokens", "list", "acme").stdout
    assert "acme-admin" in everything and "other-scim" in everything
    assert "acme-admin" in only_acme and "other-scim" not in only_acme
    with rt.db.read() as s:
        stored_hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert hash_token(acme_token) in stored_hashes
    for secret in [acme_token, *stored_hashes]:
        assert secret not in everything


def test_demo_builds_a_tenant_with_people_and_groups_and_prints_working_tokens(rt, run, client):
    result = run("demo")
    assert result.exit_code == 0, result.output
    printed = fields(result.stdout)
    assert printed["SCIM base URL"].strip() == "http://localhost/scim/v2"
    admin = {"Authorization": f"Bearer {printed['Admin token'].strip()}"}
    groups = client.get("/api/v1/groups?per_page=100", headers=admin).json
    counts = {g["name"]: g["member_count"] for g in groups["items"]}
    assert len(counts) >= 3 and all(n > 0 for n in counts.values())
    tenant_id = _tenant_id(rt, "demo")
    people = users.list_users(rt, tenant_id, per_page=100)
    assert 40 <= people.total <= 60
    assert len({u.department for u in people.items if u.department}) >= 3
    assert all("location" in u.custom_attributes for u in people.items)
    signin = printed["UI sign-in"].split()[0].removeprefix("http://localhost")
    assert client.get(signin).status_code == 200  # opening the link only shows the Sign in button
    assert press_sign_in(client, signin).status_code == 302  # a one-time link: into the UI once ...
    assert client.get(signin).status_code == 403  # ... and never again
    scim = printed["SCIM token"].strip()
    assert client.get("/api/v1/groups", headers={"Authorization": f"Bearer {scim}"}).status_code == 403

    again = run("demo")
    assert again.exit_code == 0, again.output
    assert users.list_users(rt, tenant_id, per_page=100).total == people.total
    regrouped = client.get("/api/v1/groups?per_page=100", headers=admin).json
    assert {g["name"]: g["member_count"] for g in regrouped["items"]} == counts


def test_the_lti_and_rules_command_groups_are_wired_into_the_cli(run):
    assert run("lti", "--help").exit_code == 0
    assert run("rules", "--help").exit_code == 0


def test_an_lti_registration_url_carries_a_valid_invite_for_the_tenant(run, client):
    run("tenants", "create", "Acme")
    result = run("lti", "registration-url", "acme")
    assert result.exit_code == 0, result.output
    url = result.stdout.splitlines()[-1]
    assert url.startswith("http://localhost/lti/register?invite=")
    path = url.removeprefix("http://localhost")
    # A valid invite gets past the invite check to the platform's missing parameter.
    accepted = client.get(path)
    assert accepted.status_code == 400 and b"openid_configuration" in accepted.data
    assert client.get(path[:-3] + "xyz").status_code == 403


# --- the environment: the embedded default, server databases, missing settings ---------------


def test_on_the_embedded_default_commands_create_the_sqlite_database_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["tenants", "create", "Acme"], obj=CliState(env={}))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "provisioning.db").exists() and (tmp_path / "provisioning.secret").exists()
    listing = CliRunner().invoke(cli, ["tenants", "list"], obj=CliState(env={}))
    assert "acme" in listing.stdout


def test_database_url_without_secret_key_fails_loudly(tmp_path):
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1/anything"}
    for command in (["serve"], ["tenants", "list"], ["worker"]):
        assert_refused(CliRunner().invoke(cli, command, obj=CliState(env=env)), 2, "SECRET_KEY is not set")


def test_serve_refuses_a_database_that_is_not_migrated_and_says_how_to_fix_it(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}", "SECRET_KEY": secrets.token_urlsafe(32)}
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], obj=CliState(env=env))
    assert_refused(result, 2, "not migrated", "provisioning db upgrade")
    assert_refused(CliRunner().invoke(cli, ["tenants", "list"], obj=CliState(env=env)), 2, "provisioning db upgrade")


def test_db_upgrade_migrates_a_server_database_so_commands_work(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}", "SECRET_KEY": secrets.token_urlsafe(32)}
    upgraded = CliRunner().invoke(cli, ["db", "upgrade"], obj=CliState(env=env))
    assert upgraded.exit_code == 0, upgraded.output
    assert "is at revision" in upgraded.stdout
    created = CliRunner().invoke(cli, ["tenants", "create", "Acme"], obj=CliState(env=env))
    assert created.exit_code == 0, created.output


def test_a_database_from_a_newer_release_is_refused_with_a_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32)}
    assert CliRunner().invoke(cli, ["db", "upgrade"], obj=CliState(env=env)).exit_code == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert_refused(CliRunner().invoke(cli, ["db", "upgrade"], obj=CliState(env=env)), 2, "Migration error", "9999")
    assert_refused(CliRunner().invoke(cli, ["serve"], obj=CliState(env=env)), 2, "at revision 9999")


def test_a_database_url_with_a_password_is_never_printed_with_it(tmp_path):
    env = {"DATABASE_URL": "postgresql://app:hunter2secret@127.0.0.1:1/nothing", "SECRET_KEY": "k" * 40}
    result = CliRunner().invoke(cli, ["tenants", "list"], obj=CliState(env=env))
    assert_refused(result, 2)
    assert "hunter2secret" not in result.output


def test_worker_burst_runs_the_queued_jobs_and_exits(rt, run, tenant):
    actor = Actor("test", "api")
    people = [users.create_user(rt, tenant.id, {"email": f"p{i}@example.com"}, actor).id for i in range(3)]
    source = groups.create_group(rt, tenant.id, {"name": "Source"}, actor)
    target = groups.create_group(rt, tenant.id, {"name": "Target"}, actor)
    memberships.add_members(rt, tenant.id, source.id, user_ids=people, actor=actor)
    op = memberships.request_copy(rt, tenant.id, target.id, source.id, actor)
    assert operations.get_operation(rt, tenant.id, op.id).status == "queued"

    result = run("worker", "--burst")
    assert result.exit_code == 0, result.output
    assert operations.get_operation(rt, tenant.id, op.id).status == "succeeded"
    assert memberships.list_members(rt, tenant.id, target.id).total == 3


def test_worker_refuses_to_start_without_redis_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused(CliRunner().invoke(cli, ["worker", "--burst"], obj=CliState(env={})), 2, "REDIS_URL is not set")


def test_worker_says_so_when_redis_cannot_be_reached(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["worker", "--burst"], obj=CliState(env={"REDIS_URL": "redis://127.0.0.1:1/0"}))
    assert_refused(result, 2, "Cannot reach Redis")


def test_main_runs_on_the_environment_mapping_it_is_given(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'given.db'}", "SECRET_KEY": secrets.token_urlsafe(32)}
    with pytest.raises(SystemExit) as exited:
        main(["db", "upgrade"], env=env)
    assert exited.value.code == 0
    assert (tmp_path / "given.db").exists()


def test_demo_respects_the_seat_limit_of_an_existing_demo_tenant_and_changes_nothing(rt, run):
    run("tenants", "create", "Demo", "--seats", "10")
    assert_refused(run("demo"), 1, "seat limit")
    assert users.list_users(rt, _tenant_id(rt, "demo")).total == 0


def _tenant_id(rt, slug: str) -> int:
    from provisioning.services.tenants import get_tenant

    return get_tenant(rt, slug).id
