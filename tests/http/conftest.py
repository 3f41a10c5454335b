"""Fixtures shared by the tests that go through the edges."""

import pytest

from tests.support.signin import UiSession, sign_in  # noqa: E402


@pytest.fixture
def owner(client, rt, tenant) -> UiSession:
    """The tenant's owner, signed in to the UI with a one-time link."""
    return sign_in(client, rt, tenant.id)
