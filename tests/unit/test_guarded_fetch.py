"""Which addresses Dynamic Registration may connect to (provisioning/lti/guarded_fetch.py)."""

from __future__ import annotations

import pytest

from provisioning.config import Settings
from provisioning.lti.guarded_fetch import address_allowed

NEVER = [
    "169.254.169.254",  # cloud metadata (link-local)
    "fe80::1",
    "fe80::1%eth0",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "::ffff:169.254.169.254",  # IPv4-mapped IPv6 of the metadata address
]
PRIVATE = [
    "127.0.0.1",
    "127.1.2.3",
    "::1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
    "192.0.2.1",  # documentation
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NEVER + PRIVATE)
def test_a_non_public_address_is_refused_by_default(address):
    assert not address_allowed(address, host_allowed=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_allowed(address):
    assert address_allowed(address, host_allowed=False)


@pytest.mark.parametrize("address", PRIVATE)
def test_an_allowed_host_may_be_private_or_loopback(address):
    assert address_allowed(address, host_allowed=True)


@pytest.mark.parametrize("address", NEVER)
def test_no_allowance_opens_metadata_link_local_multicast_or_reserved(address):
    assert not address_allowed(address, host_allowed=True)


@pytest.mark.parametrize("address", ["", "example.com", "127.0.0.1.", "1.2.3.4.5"])
def test_what_is_not_an_address_is_refused(address):
    assert not address_allowed(address, host_allowed=True)


def test_the_allow_list_setting_is_a_comma_separated_list():
    env = {"LTI_REGISTRATION_ALLOWED_HOSTS": " moodle.campus.local, 10.1.2.3 ,,"}
    assert Settings.from_env(env).lti_registration_allowed_hosts == ("moodle.campus.local", "10.1.2.3")
    assert Settings.from_env({}).lti_registration_allowed_hosts == ()
