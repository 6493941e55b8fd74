"""How long `spendlane check` and `spendlane hook gate` take, start-up included.

    python bench/check.py [--ledger PATH] [--runs 21]

Fills a ledger with 300,000 calls over the 90 days up to now (a fleet's three months: the
current day, week and month windows are full, so every budget sums real cells), writes a
config with the short-form budgets operators write (YAML) and a TOML one with an agent-scoped
and a rolling 5-hour budget too, and runs `python -m spendlane check` as a child process, as a
dispatcher would; and `spendlane hook gate` fed a PreToolUse payload on stdin with the TOML
config in the config folder, as Claude Code runs it before every tool call. Prints the
median and 90th percentile wall time, and a bare `python -c pass` for the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

YAML = """timezone: Europe/Berlin
budgets:
  daily_limit_usd: 500.00
  monthly_limit_usd: 5000.00
  per_backend: {claude: 2000.00/month, kimi: 15.00/month, gpt: 1000.00/month}
  warning_threshold: 0.8
  hard_stop: true
"""
TOML = """timezone = "Europe/Berlin"
[budgets]
daily_limit_usd = 500.00
monthly_limit_usd = 5000.00
per_backend = {claude = "2000/month", kimi = "15/month", gpt = "1000/month"}
[[budget]]
name = "agent-3 weekly"
agent = "agent-3"
period = "week"
limit_usd = 300
[[budget]]
name = "claude 5h"
provider = "anthropic"
period = "5h"
limit_usd = 100
"""


GATE_PAYLOAD = (
    '{"session_id": "4f1c2d9e-0b7a-4e55-9a51-7c3f2e8d1a60", "transcript_path": '
    '"/home/dev/.claude/projects/-home-dev-shop/4f1c2d9e.jsonl", "cwd": "/home/dev/shop", '
    '"permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash", '
    '"tool_input": {"command": "pytest -q", "description": "Run the tests"}}'
)


def wall(args: list[str], runs: int, env: dict[str, str], stdin: str | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       env=env, input=stdin, text=True)  # fmt: skip
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ledger", type=Path, default=Path(__file__).parent / "out" / "ledger-check.sqlite3"
    )
    parser.add_argument("--runs", type=int, default=21)
    ns = parser.parse_args()
    ns.ledger.unlink(missing_ok=True)  # "now" moves: the calls must end now
    sys.path.insert(0, str(Path(__file__).parent))
    from million import fill

    ns.ledger.parent.mkdir(parents=True, exist_ok=True)
    fill(ns.ledger, 300_000, start_ms=int(time.time() * 1000) - 90 * 86_400_000, days=90)
    with tempfile.TemporaryDirectory() as folder:
        yaml_path, toml_path = Path(folder) / "budgets.yaml", Path(folder) / "config.toml"
        yaml_path.write_text(YAML)
        toml_path.write_text(TOML)
        base = [sys.executable, "-m", "spendlane", "--db", str(ns.ledger), "check"]
        cases = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "check, 5 budgets (YAML short form)": [*base, "--provider", "claude",
                                                   "--config", str(yaml_path)],
            "check, 7 budgets incl. agent and 5h (TOML)": [*base, "--provider", "claude",
                                                           "--agent", "agent-3",
                                                           "--config", str(toml_path)],
        }  # fmt: skip
        gate = [sys.executable, "-m", "spendlane", "--db", str(ns.ledger), "hook", "gate"]
        print("| run | median | p90 |\n|---|---|---|")
        env = {**os.environ, "SPENDLANE_HOME": folder}  # status.json goes there
        for name, args in cases.items():
            times = wall(args, 1, env) and wall(args, ns.runs, env)  # a warm-up run first
            p90 = times[int(len(times) * 0.9)]
            print(f"| {name} | {statistics.median(times):.0f} ms | {p90:.0f} ms |")
        times = wall(gate, 1, env, GATE_PAYLOAD) and wall(gate, ns.runs, env, GATE_PAYLOAD)
        p90 = times[int(len(times) * 0.9)]
        print(
            f"| hook gate (PreToolUse), 7 budgets (TOML) | {statistics.median(times):.0f} ms "
            f"| {p90:.0f} ms |"
        )


if __name__ == "__main__":
    main()
