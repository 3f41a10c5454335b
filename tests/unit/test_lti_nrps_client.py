"""The NRPS client's own rules: Link headers as platforms really write them, token caching by expiry."""

from __future__ import annotations

import time

import pytest

from provisioning.lti.nrps import TokenCache, link_targets


@pytest.mark.parametrize(
    "header",
    [
        '<https://lms.example/Api/Members?Page=2>; rel="next"',
        "<https://lms.example/Api/Members?Page=2>; rel=next",
        '<https://lms.example/Api/Members?Page=1>; rel="first", <https://lms.example/Api/Members?Page=2>; rel="next"',
        '<https://lms.example/Api/Members?Page=2>; rel="next last"',
        "<https://lms.example/Api/Members?Page=2>;rel=NEXT",
    ],
)
def test_the_next_link_is_found_however_rel_is_written_and_keeps_its_case(header):
    assert link_targets(header)["next"] == "https://lms.example/Api/Members?Page=2"


def test_a_header_without_next_has_no_next_but_may_have_differences():
    links = link_targets('<https://lms.example/m?since=42>; rel="differences"')
    assert "next" not in links and links["differences"] == "https://lms.example/m?since=42"
    assert link_targets(None) == {} and link_targets("") == {}


def test_cached_tokens_are_kept_until_shortly_before_they_expire():
    cache = TokenCache()
    key = ("https://lms.example", "client", "scope")
    cache.put(key, "long", expires_in=3600)
    assert cache.get(key) == "long"
    assert cache.get(("https://lms.example", "other-client", "scope")) is None
    cache.put(key, "short", expires_in=31)  # inside the 30-second safety margin: almost gone
    time.sleep(1.1)
    assert cache.get(key) is None
