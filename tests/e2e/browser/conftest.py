"""Fixtures of the browser tests: a Chromium browser, and the tool with a test LMS served live."""

from __future__ import annotations

import pytest

from tests.support.browser import ARGS, CHROMIUM, serving


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(rt):
    with serving(rt.settings, rt.db) as served:
        yield served
