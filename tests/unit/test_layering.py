"""The domain and its services stay free of Flask and RQ: edges adapt to them, not the reverse."""

import pkgutil
import subprocess
import sys

import provisioning.services


def _service_modules() -> list[str]:
    return [f"provisioning.services.{m.name}" for m in pkgutil.iter_modules(provisioning.services.__path__)]


def test_services_and_models_import_neither_flask_nor_rq():
    modules = ["provisioning.models", *_service_modules()]
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    __import__(name)\n"
        "bad = sorted(m for m in ('flask', 'rq', 'flask_smorest') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"imported by services: {result.stdout.strip()}"
