"""The folder tree is the architecture: a Flask-free core under edges that don't import each other.

The contracts themselves live in pyproject.toml ([tool.importlinter]) and CI runs ``lint-imports``;
these tests hold the same line from inside the suite, statically (the import graph) and at run
time (what importing the core actually loads).
"""

import pkgutil
import subprocess
import sys

import provisioning

EDGES = ("api", "scim", "lti", "ui", "web", "jobs", "server")
FRAMEWORKS = ("flask", "flask_smorest", "werkzeug", "rq", "click", "marshmallow")


def _core_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.walk_packages(provisioning.__path__, "provisioning.") if ".migrations" not in m.name
    )


def test_importing_every_core_module_loads_no_web_framework_job_queue_or_edge():
    code = (
        "import sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    __import__(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS + EDGES!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"loaded by the core: {result.stdout.strip()}"


def test_the_import_contracts_hold_layers_independent_edges_and_no_cycles():
    # import-linter reads the contracts from pyproject.toml in the working directory.
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_provisioning_command_loads_no_metrics_before_serve_sets_the_multiprocess_directory():
    # prometheus_client picks single- or multi-process mode when it is imported; `provisioning
    # serve` sets PROMETHEUS_MULTIPROC_DIR first, so the command's module must not import it.
    code = "import sys, server.cli\nprint('prometheus_client' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
