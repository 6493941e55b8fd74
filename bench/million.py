"""Reports and export over a ledger of 1,000,000 calls (a year of heavy use).

    python bench/million.py [--events 1000000] [--ledger PATH]

Fills a ledger through the real write path (a year, 8 models, 60 projects, 20,000 sessions of
~50 calls each, contiguous in time as real sessions are),
then times the report commands as a user runs them (child processes, `--no-ingest`) and the
export of everything, with peak memory. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spendlane.events import UsageEvent
from spendlane.ledger import SqliteLedger
from spendlane.pricing import Pricer

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001",
          "claude-opus-4-1-20250805", "gpt-5-codex", "gpt-5.2-codex", "kimi-k2-thinking",
          "claude-sonnet-4-6"]  # fmt: skip
START_MS = 1_763_000_000_000  # mid-November 2025: a year up to the benchmark date


def fill(path: Path, count: int, seed: int = 1, start_ms: int = START_MS, days: int = 365) -> None:
    """`count` calls over a year, in sessions of ~50 calls with three running at once (as an
    agent fleet's sessions are: contiguous in time), 60 projects, 12 agents, 8 models."""
    rng = random.Random(seed)
    pricer = Pricer()
    span = days * 86_400_000
    stamps = sorted(start_ms + rng.randrange(span) for _ in range(count))
    with SqliteLedger(path) as ledger:
        for start in range(0, count, 20_000):
            batch = []
            for i in range(start, min(start + 20_000, count)):
                session = i // 150 * 3 + rng.randrange(3)
                model = MODELS[(session + rng.randrange(2)) % len(MODELS)]
                event = UsageEvent(
                    key=f"bench:{i}", ts_ms=stamps[i],
                    source="codex" if model.startswith("gpt") else "claude_code",
                    provider="openai" if model.startswith("gpt") else "unknown",
                    model=model, input_tokens=rng.randrange(1, 800),
                    output_tokens=rng.randrange(10, 3000),
                    cache_write_5m_tokens=rng.randrange(0, 4000),
                    cache_read_tokens=rng.randrange(1000, 150_000),
                    session_id=f"s{session}", project=f"/home/dev/p{session % 60}",
                    agent=f"agent-{session % 12}",
                )  # fmt: skip
                pricer.price(event)
                batch.append(event)
            ledger.insert_events(batch)


def timed(args: list[str], ledger: Path) -> tuple[float, int]:
    """Median wall seconds of 3 runs, and peak RSS MiB."""
    runs = []
    peak = 0
    for _ in range(3):
        with tempfile.NamedTemporaryFile("r") as report:
            started = time.perf_counter()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, sys.executable, "-m",
                            "spendlane", "--db", str(ledger), *args], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            runs.append(time.perf_counter() - started)
            peak = max(peak, int(report.read().split()[-1]) // 1024)
    return sorted(runs)[1], peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=Path)
    ns = parser.parse_args()
    ledger = ns.ledger or Path(__file__).parent / "out" / f"ledger-{ns.events}.sqlite3"
    if not ledger.exists():
        ledger.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        fill(ledger, ns.events)
        print(f"filled {ns.events:,} calls in {time.perf_counter() - started:.1f} s\n")
    runs = [
        ("monthly, whole year", ["monthly", "--json", "--no-ingest", "--timezone", "UTC"]),
        ("daily, one month", ["daily", "--json", "--no-ingest", "--since", "2026-10-01",
                              "--until", "2026-10-31"]),
        ("daily, one month, another zone", ["daily", "--json", "--no-ingest", "--since",
                                            "2026-10-01", "--until", "2026-10-31",
                                            "--timezone", "Asia/Kolkata"]),
        ("session, one month", ["session", "--json", "--no-ingest", "--since", "2026-10-01",
                                "--until", "2026-10-31"]),
        ("daily --by project, one month", ["daily", "--json", "--no-ingest", "--by", "project",
                                           "--since", "2026-10-01", "--until", "2026-10-31"]),
        ("export --by model, one month", ["export", "--no-ingest", "--by", "model", "--since",
                                          "2026-10-01", "--until", "2026-10-31"]),
        ("export everything (CSV)", ["export", "--no-ingest", "--out", "/dev/null"]),
    ]  # fmt: skip
    print(f"| {ns.events:,} calls | median wall | peak memory |\n|---|---|---|")
    for name, args in runs:
        seconds, peak = timed(args, ledger)
        print(f"| {name} | {seconds * 1000:.0f} ms | {peak} MiB |")


if __name__ == "__main__":
    main()
