"""Results: the printed table, bench/results/latest.json and the PNG chart."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


@dataclass
class Result:
    """One line of the table: our time against the baseline's, measured in the same run.

    ``target`` is the highest acceptable ratio (None: reported, no target); ``limits`` are
    further pass conditions (e.g. the worker's peak RSS) that ``passed`` also requires.
    """

    name: str
    size: int
    ours: float
    baseline: float
    unit: str = "s"
    ours_label: str = ""
    baseline_label: str = ""
    target: float | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool | None:
        if self.target is None and not self.limits:
            return None
        ok = self.target is None or self.ratio <= self.target
        return ok and all(v["value"] <= v["max"] for v in self.limits.values())

    def as_dict(self) -> dict[str, Any]:
        # Three significant digits, not three decimals: a ratio against a time budget can be 0.0065.
        return {**asdict(self), "ratio": float(f"{self.ratio:.3g}"), "passed": self.passed}


def _fmt(value: float, unit: str) -> str:
    return f"{value * 1000:.1f} ms" if unit == "s" and value < 1 else f"{value:.2f} {unit}"


def table(results: list[Result]) -> str:
    head = ("benchmark", "size", "ours", "baseline", "ratio", "target", "result")
    rows = [head]
    for r in results:
        target = f"<= {r.target:g}x" if r.target is not None else "-"
        for key, lim in r.limits.items():
            target += f", {key} {lim['value']:.0f}/{lim['max']:.0f}"
        result = {True: "PASS", False: "FAIL", None: "info"}[r.passed]
        rows.append(
            (r.name, f"{r.size:,}", _fmt(r.ours, r.unit), _fmt(r.baseline, r.unit), f"{r.ratio:.2f}x", target, result)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        import psutil

        facts["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
        facts["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except ImportError:
        pass
    return facts


def write(results: list[Result], size: str, facts: dict[str, Any], out: Path = RESULTS) -> tuple[Path, Path | None]:
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "size": size,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": facts,
        "git": _git_head(),
        "results": [r.as_dict() for r in results],
    }
    path = out / "latest.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path, chart(results, size, out / "latest.png")


def chart(results: list[Result], size: str, path: Path) -> Path | None:
    """Ratios against their targets, one bar per benchmark (log scale: 1x is the database's own speed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    if not results:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(results) + 1.8))
    names = [f"{r.name} ({r.size:,})" for r in results]
    colours = [{True: "#3a7d44", False: "#c0392b", None: "#7f8c8d"}[r.passed] for r in results]
    ys = range(len(results))
    ax.barh(ys, [r.ratio for r in results], color=colours)
    for y, r in zip(ys, results):
        if r.target is not None:
            ax.plot([r.target, r.target], [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.text(r.ratio, y, f" {r.ratio:.2f}x", va="center", fontsize=8)
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("ours / baseline (same run; black tick = target)")
    ax.set_title(f"provisioning benchmarks, size {size}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _git_head() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=Path(__file__).parent,
                timeout=5,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None
