"""scim2-tester's conformance checks against the real app over a loopback socket.

This is the check the SCIM issue names: ``scim2 --url BASE -h "Authorization: Bearer TOKEN" test``
run against the running service.  CI runs it on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def live_server(app):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _scim2_cli() -> list[str]:
    found = shutil.which("scim2", path=os.path.dirname(sys.executable)) or shutil.which("scim2")
    if found is None:
        pytest.fail("scim2-cli is not installed; it is in the test extra: pip install -e '.[test]'")
    return [found]


def test_scim2_tester_reports_success_for_every_check(live_server, tenant):
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [
            *_scim2_cli(),
            "--url",
            f"{live_server}/scim/v2",
            "-h",
            f"Authorization: Bearer {tenant.scim_token}",
            "test",
            "--verbose",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    statuses = re.findall(r"^([A-Z]+) (.+)$", output, re.MULTILINE)
    assert len(statuses) > 50, f"scim2-tester ran too few checks:\n{output}\n{proc.stderr}"
    not_success = [f"{status} {title}" for status, title in statuses if status != "SUCCESS"]
    assert not not_success, "checks that did not succeed:\n" + "\n".join(not_success) + "\n\n" + output
