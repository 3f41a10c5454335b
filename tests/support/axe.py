"""axe-core in the browser suite (axe-playwright-python): a page fails on any serious or critical violation.

WCAG 2.1 AA is the UI's bar (issue 16); moderate and minor findings (mostly best practices) are not failures.
axe runs in the page's own world through Playwright's evaluate (DevTools), so our CSP (script-src 'self')
stays on while it runs.
"""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

FAILING = ("serious", "critical")
_axe = Axe()


# Every check appends a line here (where, then the number of failing and of other violations), so a run
# can say how many pages axe checked and what it found below the bar.
RESULTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe-results.tsv"


def violations(target, where: str = "") -> list[dict]:
    """The serious and critical violations on ``target`` (a Playwright Page or Frame)."""
    response = _axe.run(target).response
    found = [v for v in response["violations"] if v.get("impact") in FAILING]
    below = sorted({v["id"] for v in response["violations"] if v.get("impact") not in FAILING})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as log:  # one short line per write: appends don't interleave
        log.write(f"{where or target.url}\t{len(found)}\t{','.join(below)}\n")
    return found


def report(found: list[dict]) -> str:
    """One line per violation and node: the rule, its impact, what it says, and where."""
    lines = []
    for v in found:
        for node in v["nodes"]:
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_accessible(target, where: str = "") -> None:
    """Fail, listing them, when ``target`` has a serious or critical axe-core violation."""
    found = violations(target, where)
    assert not found, f"axe-core on {where or target.url}:\n{report(found)}"
