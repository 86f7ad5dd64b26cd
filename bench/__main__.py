"""``make bench``: run every benchmark in turn; exit non-zero if any misses its target.

Each benchmark prints its own table with a baseline measured in the same run, so
the numbers mean something on whatever machine runs them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    failed = []
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    # Options (e.g. --rebuild) are for the benchmarks themselves, which read sys.argv.
    selected = [a for a in sys.argv[1:] if not a.startswith("-")]
    selected = selected or [n for n in names if n.endswith("_bench")]
    for name in selected:
        print(f"\n== {name} ==", flush=True)
        if importlib.import_module(f"bench.{name}").main() != 0:
            failed.append(name)
    if failed:
        print(f"\nmissed a target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
