"""Dynamic Registration fetches only what the invite allows, and every failure looks the same.

The URLs come from whoever holds the invite link (IMS LTI-DR 1.0 §3.3-3.5): without these rules
the endpoint would reach the service's own network and, by its distinguishable errors, scan it.
The test platform runs on 127.0.0.1: it is reachable only through an invite (or the setting)
that allows that host.
"""

from __future__ import annotations

import socket

import pytest

from provisioning.lti import guarded_fetch
from provisioning.lti.dynamic_registration import GENERIC_FAILURE
from tests.support.lti_platform import dynamic_registration, invite_token

CONFIG = "/.well-known/openid-configuration"


def _refusal(resp) -> str:
    """The page's text, which must be the same for every failure."""
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert GENERIC_FAILURE in body
    return body


def _try(client, rt, tenant, url: str, **invite_options) -> str:
    return _refusal(dynamic_registration(client, invite_token(rt, tenant.id, **invite_options), url))


def test_without_an_allowance_loopback_private_and_metadata_urls_are_refused_unfetched(
    rt, client, tenant, platform, caplog
):
    port = platform.server.server_port
    urls = [
        f"{platform.url}{CONFIG}",  # the platform itself: on loopback
        f"http://localhost:{port}{CONFIG}",
        f"http://[::1]:{port}{CONFIG}",
        f"http://[::ffff:127.0.0.1]:{port}{CONFIG}",
        f"http://2130706433:{port}{CONFIG}",  # 127.0.0.1 written as one number
        f"http://0.0.0.0:{port}{CONFIG}",
        "http://10.0.0.1/.well-known/openid-configuration",
        "http://172.16.0.1/",
        "https://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        f"ftp://127.0.0.1:{port}{CONFIG}",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{port}/_",
        f"http://user:pass@127.0.0.1:{port}{CONFIG}",
        "http://:80/",
        "not a url",
    ]
    bodies = {_try(client, rt, tenant, url) for url in urls}
    assert len(bodies) == 1  # one message for all: nothing tells them apart
    assert platform.requests == []
    assert "127.0.0.1" not in bodies.pop() and "not allowed" in caplog.text


def test_the_allow_list_setting_opens_an_on_premise_host(rt, client, tenant, platform):
    url = f"{platform.url}{CONFIG}"
    _try(client, rt, tenant, url)
    rt.settings.lti_registration_allowed_hosts = ("127.0.0.1",)
    assert dynamic_registration(client, invite_token(rt, tenant.id), url).status_code == 200


def test_an_allowance_never_opens_the_metadata_address(rt, client, tenant):
    _try(client, rt, tenant, "http://169.254.169.254/latest/meta-data/", allow_hosts=["169.254.169.254"])


def test_outcomes_that_differ_answer_the_same(rt, client, tenant, platform, monkeypatch):
    monkeypatch.setattr(guarded_fetch, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(guarded_fetch, "TOTAL_SECONDS", 1.5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    allowed = {"allow_hosts": ["127.0.0.1"]}
    bodies = {
        _try(client, rt, tenant, "http://169.254.169.254/latest/meta-data/"),  # refused
        _try(client, rt, tenant, f"http://127.0.0.1:{closed}{CONFIG}", **allowed),  # closed port
        _try(client, rt, tenant, f"{platform.url}/nothing", **allowed),  # HTTP 404
        _try(client, rt, tenant, f"{platform.url}/token", **allowed),  # HTTP 405
        _try(client, rt, tenant, f"{platform.url}/hang?seconds=2", **allowed),  # read timeout
        _try(client, rt, tenant, f"{platform.url}/big", **allowed),  # 2 MiB: over the size cap
        _try(client, rt, tenant, f"{platform.url}/trickle", **allowed),  # never ends: over the deadline
    }
    assert len(bodies) == 1


def test_an_oversized_or_endless_answer_is_cut_off(rt, client, tenant, platform, monkeypatch, caplog):
    monkeypatch.setattr(guarded_fetch, "TOTAL_SECONDS", 1.0)
    allowed = {"allow_hosts": ["127.0.0.1"]}
    _try(client, rt, tenant, f"{platform.url}/big", **allowed)
    assert f"declares 2097167 bytes: larger than {guarded_fetch.MAX_BYTES} bytes" in caplog.text
    _try(client, rt, tenant, f"{platform.url}/big?stream=1", **allowed)
    assert f"the answer is larger than {guarded_fetch.MAX_BYTES} bytes" in caplog.text
    _try(client, rt, tenant, f"{platform.url}/trickle", **allowed)
    assert "took longer than" in caplog.text


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://localhost:{port}" + CONFIG, "http://10.0.0.1/"],
)
def test_a_redirect_to_a_disallowed_address_is_refused(rt, client, tenant, platform, target):
    target = target.format(port=platform.server.server_port)
    _try(client, rt, tenant, f"{platform.url}/redirect?to={target}", allow_hosts=["127.0.0.1"])
    assert platform.requests == ["/redirect"]  # localhost is the same server, but not an allowed host


def test_a_redirect_within_what_is_allowed_is_followed(rt, client, tenant, platform):
    invite = invite_token(rt, tenant.id, allow_hosts=["127.0.0.1"])
    resp = dynamic_registration(client, invite, f"{platform.url}/redirect?to={platform.url}{CONFIG}")
    assert resp.status_code == 200 and platform.requests[:2] == ["/redirect", CONFIG]


@pytest.mark.parametrize("key", ["registration_endpoint", "jwks_uri", "token_endpoint", "authorization_endpoint"])
def test_the_configuration_may_not_point_the_tool_at_a_disallowed_address(rt, client, tenant, platform, key):
    platform.config_overrides = {key: "http://169.254.169.254/latest/meta-data/"}
    _try(client, rt, tenant, f"{platform.url}{CONFIG}", allow_hosts=["127.0.0.1"])
    assert platform.registrations == []


def test_the_address_connected_to_is_the_one_checked(rt, client, tenant, platform, monkeypatch):
    """DNS rebinding: a name that answers a public address, then loopback, gets one lookup."""
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"] * 10)
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(guarded_fetch, "CONNECT_TIMEOUT", 0.3)
    port = platform.server.server_port
    _try(client, rt, tenant, f"http://rebind.test:{port}{CONFIG}")
    assert lookups == ["rebind.test"] and platform.requests == []  # connected (or not) to the public address only
    _try(client, rt, tenant, f"http://rebind.test:{port}{CONFIG}")  # now the name answers loopback: refused
    assert platform.requests == []


def test_a_name_with_one_disallowed_address_among_several_is_refused(rt, client, tenant, platform, monkeypatch):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host != "mixed.test":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("93.184.216.34", "127.0.0.1")]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    _try(client, rt, tenant, f"http://mixed.test:{platform.server.server_port}{CONFIG}")
    assert platform.requests == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"issuer": "{url}/" + "a" * 500},  # on the right origin, longer than the column
        {"authorization_server": "\u0000"},
        {"authorization_server": "\ud800"},
        {"authorization_server": {"not": "text"}},
        {"token_endpoint": "{url}/" + "t" * 1100},
    ],
)
def test_hostile_configuration_values_are_a_generic_refusal_not_a_500(rt, client, tenant, platform, overrides):
    platform.config_overrides = {
        k: v.format(url=platform.url) if isinstance(v, str) else v for k, v in overrides.items()
    }
    _try(client, rt, tenant, f"{platform.url}{CONFIG}", allow_hosts=["127.0.0.1"])
