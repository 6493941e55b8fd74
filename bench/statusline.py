"""How long `spendlane statusline` takes, start-up included, as Claude Code runs it.

    python bench/statusline.py [--runs 31]

Fills (once a day) a ledger with 1,000,000 calls over the year up to now, then pipes a
real-shaped statusline payload (model, session cost, rate_limits) into
`python -m spendlane --db LEDGER statusline` as Claude Code does on every assistant message.
Prints the median and 90th percentile wall time and `python -c pass` for the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAYLOAD = {
    "session_id": "s19990", "transcript_path": "/tmp/none.jsonl",
    "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
    "workspace": {"current_dir": "/home/dev/p30", "project_dir": "/home/dev/p30"},
    "cost": {"total_cost_usd": 3.21, "total_duration_ms": 600_000},
    "rate_limits": {"five_hour": {"used_percentage": 41, "resets_at": 0},
                    "seven_day": {"used_percentage": 17, "resets_at": 0}},
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    ns = parser.parse_args()
    ledger = Path(__file__).parent / "out" / f"ledger-year-{time.strftime('%Y%m%d')}.sqlite3"
    if not ledger.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from million import fill

        ledger.parent.mkdir(parents=True, exist_ok=True)
        now = int(time.time() * 1000)
        fill(ledger, 1_000_000, start_ms=now - 365 * 86_400_000, days=365)
    payload = dict(PAYLOAD)
    payload["rate_limits"] = {
        "five_hour": {"used_percentage": 41, "resets_at": int(time.time()) + 7200},
        "seven_day": {"used_percentage": 17, "resets_at": int(time.time()) + 400_000},
    }
    data = json.dumps(payload).encode()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SPENDLANE_HOME": home}
        cases = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "statusline, 1,000,000-call ledger": [sys.executable, "-m", "spendlane", "--db",
                                                  str(ledger), "statusline"],
        }  # fmt: skip
        print("| run | median | p90 |\n|---|---|---|")
        for name, args in cases.items():
            times = []
            for _ in range(ns.runs + 1):
                started = time.perf_counter()
                subprocess.run(args, input=data, stdout=subprocess.DEVNULL, env=env, check=True)
                times.append((time.perf_counter() - started) * 1000)
            times = sorted(times[1:])  # the first run warms the page cache
            print(f"| {name} | {statistics.median(times):.0f} ms | "
                  f"{times[int(len(times) * 0.9)]:.0f} ms |")  # fmt: skip
        line = subprocess.run(cases["statusline, 1,000,000-call ledger"], input=data,
                              capture_output=True, env=env, check=True).stdout.decode()  # fmt: skip
        print(f"\nthe line: {line.strip()}")


if __name__ == "__main__":
    main()
