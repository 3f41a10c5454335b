"""The benchmarks by name, and the sizes (rows) each runs at."""

from __future__ import annotations

from collections.abc import Callable

from bench import imports, lifecycle, lti, progress, request_bounds, rules, scim, scim_load, storms
from bench.env import Bench
from bench.report import Result

SIZES = ("smoke", "quick", "full")
# name -> (function, {size: n})
BENCHMARKS: dict[str, tuple[Callable[[Bench, int], list[Result]], dict[str, int]]] = {
    "member_import": (imports.member_import, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "batch_deactivation": (lifecycle.batch_deactivation, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "rule_evaluation": (rules.rule_evaluation, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "rule_incremental": (rules.rule_incremental, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "user_import": (imports.user_import, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "bulk_add_members": (imports.bulk_add_members, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "scim_latency": (scim.scim_latency, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "scim_throughput": (scim_load.scim_throughput, {"smoke": 1000, "quick": 100_000, "full": 1_000_000}),
    "request_bounds": (request_bounds.request_bounds, {"smoke": 1000, "quick": 100_000, "full": 100_000}),
    "lti": (lti.lti, {"smoke": 200, "quick": 5000, "full": 5000}),
    # issue 18: the import is 50k at full (the figure), the export 100k; quick is small on purpose.
    "import_with_rules": (storms.import_with_rules, {"smoke": 1000, "quick": 10_000, "full": 50_000}),
    "cold_export": (storms.cold_export, {"smoke": 1000, "quick": 20_000, "full": 100_000}),
    # issue 17 #4: the group progress report at 100k members.
    "group_report": (progress.group_report, {"smoke": 1000, "quick": 100_000, "full": 100_000}),
}
