"""Launches the tool must refuse, each with a clear page: forged, replayed, expired, misaddressed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from provisioning.models import User
from tests.support.lti_platform import (
    INSTRUCTOR,
    new_private_pem,
    register_platform,
    start_login,
)


def _text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def login(rt, client, tenant, platform):
    """A registered platform and a login in flight: returns (auth request, launch message)."""
    register_platform(rt, tenant.id, platform)

    def start(**kwargs):
        auth = start_login(client, platform)
        message = platform.launch_message(auth, sub="u-1", roles=[INSTRUCTOR], email="p@example.edu", **kwargs)
        return auth, message

    return start


def _post(client, auth, id_token):
    return client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})


def _refused(resp, status: int, *words: str) -> None:
    text = _text(resp)
    assert resp.status_code == status, text
    assert resp.mimetype == "text/html" and "Traceback" not in text
    for word in words:
        assert word in text


def _no_users(rt) -> bool:
    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(User)) == 0


def test_a_replayed_id_token_is_refused(rt, client, login, platform):
    auth, message = login()
    token = platform.sign(message)
    assert _post(client, auth, token).status_code == 200
    _refused(_post(client, auth, token), 401, "already used")


def test_an_id_token_whose_nonce_we_did_not_issue_is_refused(rt, client, login, platform):
    auth, message = login()
    _refused(_post(client, auth, platform.sign({**message, "nonce": "made-up"})), 401, "nonce")
    assert _no_users(rt)


def test_an_unsigned_alg_none_token_is_refused(rt, client, login, platform):
    auth, message = login()
    _refused(_post(client, auth, platform.sign(message, algorithm="none")), 401, "only RS256")
    assert _no_users(rt)


def test_a_token_signed_with_hs256_using_the_public_key_is_refused(rt, client, login, platform):
    auth, message = login()
    _refused(
        _post(client, auth, platform.sign(message, key="a-shared-secret-of-sufficient-length-123", algorithm="HS256")),
        401,
        "only RS256",
    )


def test_a_token_signed_with_another_key_under_the_platform_kid_is_refused(rt, client, login, platform):
    auth, message = login()
    _refused(_post(client, auth, platform.sign(message, key=new_private_pem())), 401, "signature")
    assert _no_users(rt)


def test_a_token_for_another_audience_is_refused(rt, client, login, platform):
    auth, message = login()
    # The registration is found by azp; aud must still contain our client id.
    forged = {**message, "aud": "someone-else", "azp": platform.client_id}
    _refused(_post(client, auth, platform.sign(forged)), 401, "audience")


def test_a_token_with_several_audiences_and_no_azp_is_refused(rt, client, login, platform):
    auth, message = login()
    forged = {k: v for k, v in {**message, "aud": [platform.client_id, "other"]}.items() if k != "azp"}
    _refused(_post(client, auth, platform.sign(forged)), 401, "azp")


def test_a_token_whose_azp_is_another_client_is_refused(rt, client, login, platform):
    auth, message = login()
    forged = {**message, "aud": [platform.client_id, "other"], "azp": "other"}
    _refused(_post(client, auth, platform.sign(forged)), 403, "other")


def test_an_expired_token_is_refused(rt, client, login, platform):
    auth, message = login()
    token = platform.sign({**message, "iat": int(time.time()) - 900, "exp": int(time.time()) - 600}, lifetime=None)
    _refused(_post(client, auth, token), 401, "expired")


def test_a_token_a_few_seconds_past_exp_is_accepted_within_the_leeway(rt, client, login, platform):
    auth, message = login()
    token = platform.sign({**message, "iat": int(time.time()) - 300, "exp": int(time.time()) - 10}, lifetime=None)
    assert _post(client, auth, token).status_code == 200


def test_a_token_without_exp_is_refused(rt, client, login, platform):
    auth, message = login()
    token = platform.sign({**message, "iat": int(time.time())}, lifetime=None)
    _refused(_post(client, auth, token), 401, "exp")


def test_a_token_from_an_unknown_issuer_is_a_typed_refusal_not_an_error(rt, client, login, platform):
    auth, message = login()
    _refused(
        _post(client, auth, platform.sign({**message, "iss": "https://unknown.example"})),
        403,
        "not registered",
        "unknown.example",
    )


def test_a_launch_with_a_malformed_id_token_is_a_400(rt, client, login):
    auth, _ = login()
    _refused(_post(client, auth, "not-a-jwt"), 400, "JWT")


def test_an_unknown_kid_is_refused_then_accepted_once_the_platform_publishes_the_key(rt, client, login, platform):
    rt.settings.lti_jwks_min_refetch_seconds = 0
    auth, message = login()
    assert _post(client, auth, platform.sign(message)).status_code == 200
    platform.rotate_signing_key(publish=False)
    auth, message = login()
    _refused(_post(client, auth, platform.sign(message)), 401, platform.kid)
    platform.publish_current_key()
    auth, message = login()
    assert _post(client, auth, platform.sign(message)).status_code == 200


def test_the_platform_jwks_is_cached_between_launches(rt, client, login, platform):
    for _ in range(3):
        auth, message = login()
        assert _post(client, auth, platform.sign(message)).status_code == 200
    assert platform.jwks_requests == 1


def test_unknown_kids_do_not_make_the_tool_refetch_the_jwks_on_every_launch(rt, client, login, platform):
    rt.settings.lti_jwks_min_refetch_seconds = 60
    auth, message = login()
    assert _post(client, auth, platform.sign(message)).status_code == 200
    for _ in range(3):
        auth, message = login()
        _refused(_post(client, auth, platform.sign(message, kid="bogus")), 401, "bogus")
    assert platform.jwks_requests == 1


def test_a_plain_exception_from_a_tool_conf_becomes_a_typed_unknown_platform(rt, app):
    import jwt
    from pylti1p3.contrib.flask import FlaskRequest

    from lti.errors import UnknownPlatform
    from lti.launch import ToolMessageLaunch
    from lti.toolconf import DbToolConf

    class DictStyleConf(DbToolConf):
        def find_registration_by_params(self, iss, client_id, *args, **kwargs):
            raise Exception(f"iss {iss} not found in settings")  # what pylti1p3's ToolConfDict does

    token = jwt.encode({"iss": "https://x.example", "aud": "c-1"}, "k" * 32, algorithm="HS256")
    with app.test_request_context("/lti/launch", method="POST", data={"id_token": token, "state": "s"}):
        message = ToolMessageLaunch(rt, FlaskRequest(), DictStyleConf(rt))
        with pytest.raises(UnknownPlatform) as refused:
            message.validate_jwt_format().validate_registration()
    assert refused.value.status == 403 and "x.example" in refused.value.reason


def test_a_token_without_a_deployment_id_claim_is_refused(rt, client, login, platform):
    # An unknown deployment is refused in tests/http/test_lti_launch.py; a missing one must be too (LTI 1.3 §5.3.3).
    auth, message = login()
    forged = {k: v for k, v in message.items() if k != "https://purl.imsglobal.org/spec/lti/claim/deployment_id"}
    _refused(_post(client, auth, platform.sign(forged)), 400, "deployment_id")
    assert _no_users(rt)
