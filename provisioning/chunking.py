"""Sizing a background job's chunks by the work they take, not by a fixed row count.

A chunk is one transaction with its progress; Stop and a worker's shutdown are honoured
between chunks.  A fixed small chunk pays each chunk's fixed costs (the keyset scan, the
progress write, the Stop check, a dozen statements) many times over on a fast database;
a fixed large one leaves the admin without progress on a slow one.  So the first chunk is
small and each next one is scaled so that a chunk takes about ``target`` seconds: progress
and Stop at least every second or so, and as few chunks as that allows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

TARGET_SECONDS = 0.5
GROWTH = 8  # at most this factor from one chunk to the next (up or down)


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    timer, start = Timer(), time.monotonic()
    try:
        yield timer
    finally:
        timer.seconds = time.monotonic() - start


def next_size(
    size: int, seconds: float, *, minimum: int, maximum: int, target: float = TARGET_SECONDS, growth: float = GROWTH
) -> int:
    """The next chunk's size, after a chunk of ``size`` rows took ``seconds``; at most ``growth`` times up or down."""
    scaled = size * target / max(seconds, 1e-3)
    scaled = min(max(scaled, size / growth), size * growth)
    return int(min(max(scaled, minimum), maximum))


T = TypeVar("T")

# Ids or names per ``IN (...)`` list: SQLite binds each one, and 1,000 stays far below its limits.
IN_LIST = 1000


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: the one way bulk code splits its input."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
