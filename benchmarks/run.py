"""Run the benchmarks and write their numbers to benchmarks/RESULTS.md.

.venv/bin/python benchmarks/run.py            # all of them
.venv/bin/python benchmarks/run.py runner     # one: analysis, twcs, runner, report
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NAMES = ["analysis", "twcs", "runner", "report"]


def main(argv: list[str]) -> None:
    names = argv or NAMES
    for name in names:
        if name not in NAMES:
            raise SystemExit(f"unknown benchmark {name!r}; choose from: {', '.join(NAMES)}")
        path = Path(__file__).with_name(f"bench_{name}.py")
        if not path.exists():
            print(f"(benchmark {name}: {path.name} not written yet, skipped)")
            continue
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
