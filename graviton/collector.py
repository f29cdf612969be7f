"""The cycle collector, tuned for a command that reads hundreds of index pages.

An audit allocates millions of short-lived objects (decoded pages, HTTP responses, findings)
that reference counting frees; the collector's passes over them, and over every object the
imports left behind, were ~5% of a cold audit's CPU. :func:`settle` moves what is loaded so far
out of the collector's sight (``gc.freeze``) and lets it run every 10,000 allocations instead
of every 700. Cycles are still collected, later. Forked page workers turn it off altogether
(``graviton.index.client``).
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 20)


def settle() -> None:
    """Call once, after the command's imports and before its work."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
