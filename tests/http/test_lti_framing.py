"""The LTI landing page holds the launch token: only the tenant's registered LMSs may frame it.

(The UI's pages are covered by tests/http/test_ui_pages.py::test_pages_allow_framing_only_by_registered_platforms
and, in a real browser, tests/e2e/browser/test_ui_browser.py.)"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.lti_platform import launch, register_platform


def _ancestors(response) -> set[str]:
    csp = response.headers["Content-Security-Policy"]
    return set(csp.split("frame-ancestors", 1)[1].split(";")[0].split())


def test_the_landing_page_may_be_framed_only_by_the_tenants_registered_lms(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform)
    assert resp.status_code == 200
    parts = urlsplit(platform.issuer)
    expected = {"'self'", f"{parts.scheme}://{parts.netloc}"} | {
        f"{urlsplit(platform.url).scheme}://{urlsplit(platform.url).netloc}"
    }
    assert _ancestors(resp) == expected and "*" not in resp.headers["Content-Security-Policy"]
    token = resp.get_data(as_text=True).split('name="launch-token" content="')[1].split('"')[0]
    again = app.test_client().get(f"/lti/home?lt={token}")
    assert again.status_code == 200 and _ancestors(again) == expected
    assert again.headers["Referrer-Policy"] == "same-origin"
