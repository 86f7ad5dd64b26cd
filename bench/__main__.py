"""``make bench``: run every benchmark in turn; exit non-zero if any misses its target.

Each benchmark prints its own table with a baseline measured in the same run, so
the numbers mean something on whatever machine runs them.
"""

from __future__ import annotations

import importlib
import sys

#: Every benchmark, in the order ``make bench`` runs them (the rest of bench/ helps them).
BENCHMARKS = ("detection_bench", "scoring_bench", "dashboard_bench", "load")


def main() -> int:
    failed = []
    # `python -m bench load --phones 50`: names first, then the benchmark's own options.
    args = sys.argv[1:]
    split = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    selected = args[:split] or list(BENCHMARKS)
    sys.argv = [sys.argv[0], *args[split:]]
    for name in selected:
        print(f"\n== {name} ==", flush=True)
        if importlib.import_module(f"bench.{name}").main() != 0:
            failed.append(name)
    if failed:
        print(f"\nmissed a target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
