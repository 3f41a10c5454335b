"""python -m bench all|<name> [--size smoke|quick|full] [--out DIR]"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path

from bench.env import Bench, BenchError
from bench.report import RESULTS, Result, machine, table, write
from bench.suite import BENCHMARKS, SIZES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="+", metavar="NAME", help=f"all, or some of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--size", choices=SIZES, default="smoke")
    parser.add_argument("--rows", type=int, default=None, help="override the size's row count (e.g. to profile)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json and latest.png go")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from all, {', '.join(BENCHMARKS)}")
    logging.basicConfig(level=logging.WARNING)
    # A SIGTERM unwinds like an error, so the worker and server processes we started are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        bench = Bench()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    results: list[Result] = []
    failures = []
    try:
        for name in names:
            fn, sizes = BENCHMARKS[name]
            started = time.perf_counter()
            rows = args.rows or sizes[args.size]
            print(f"-- {name} ({rows:,} rows) ...", file=sys.stderr, flush=True)
            try:
                got = fn(bench, rows)
            except BenchError as exc:
                failures.append(f"{name}: {exc}")
                print(f"   error: {exc}", file=sys.stderr)
                continue
            results.extend(got)
            print(f"   done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    finally:
        bench.close()
    print(table(results))
    json_path, png = write(results, args.size, machine(), args.out)
    print(f"\nJSON: {json_path}" + (f"\nchart: {png}" if png else "\nchart: skipped (pip install -e '.[bench]')"))
    for failure in failures:
        print(f"ERROR {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
