"""The test LTI platform (tests/support/lti_platform.py) itself: its glue serves what our tool fetches."""

from __future__ import annotations

import requests


def test_the_platform_glue_publishes_the_platform_key_over_http(platform):
    keys = requests.get(f"{platform.url}/jwks", timeout=5).json()["keys"]
    assert [k["kid"] for k in keys] == [platform.kid]
