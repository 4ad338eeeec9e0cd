"""How the garbage collector is set while the bot runs: measured under load with bench/gutcheck.py.

- The ~250,000 objects built at start-up (imports, aiogram's and pydantic's types, catalogs, the app) live as long
  as the process, yet every full collection walked them all: 430-480 ms of a ~5 s run. Frozen, they are skipped
  (25-45 ms).
- Each update allocates thousands of short-lived objects (a pydantic model per part of every Bot API reply) that
  reference counting frees at once; at the default threshold of 700 allocations the collector still ran ~420 young
  passes in that run (~350 ms). Every 10,000 allocations it runs ~15 (~110 ms), holding at most that many more
  objects between passes.

Re-measured once the press switch and the rewritten filters were gone (2026-12-04, bench/gutcheck.py, three
alternating runs each on the shared two-core machine): Most ran at 0.64×, 0.81× and 0.62× the echo bot's updates/s
with these settings and at 0.45×, 0.55× and 0.62× without them (medians of three pairs each), so they stay.

Re-measured after the database trips were cut (2026-12-04, Most alone, 100 users × 3 rounds, alternating with a copy
whose settings were a no-op, 4 + 3 pairs): 247.9 and 357.5 updates/s with them against 240.4 and 274.4 without
(medians), and 2.81-2.82 ms of CPU per update against 3.50-3.67 ms: they still pay.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 10_000


class CollectorSettings:
    """Applied once the bot is up, undone at shutdown so a stopped app (many per test process) can be freed and
    the process is left as it was found."""

    def __init__(self) -> None:
        self._previous: tuple[int, int, int] | None = None

    def apply(self) -> None:
        self._previous = gc.get_threshold()
        _young, middle, old = self._previous
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
        gc.freeze()  # no collection first: cheap whatever the heap's size

    def undo(self) -> None:
        gc.unfreeze()
        if self._previous is not None:
            gc.set_threshold(*self._previous)
            self._previous = None
