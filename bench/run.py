#!/usr/bin/env python3
"""Time spendlane (cold and warm) and ccusage on one generated corpus, and check their totals.

    python bench/run.py [--size-mb 1000] [--corpus DIR] [--ccusage PATH] [--warm-runs 5]

Speed claims need the same files, the same environment and a known right answer: every command
runs as a child process with its own empty HOME, CLAUDE_CONFIG_DIR and CODEX_HOME pointing at
the corpus, TZ=UTC, and (for spendlane) a fresh SPENDLANE_HOME. Token totals are compared with
the corpus manifest written by bench/gen_corpus.py. A failing command is reported and the run
goes on. Prints a markdown table and writes bench/out/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    """One timed child process."""

    name: str
    argv: list[str]
    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mib: float = 0.0  # largest single process in the tree (ru_maxrss from wait4)
    tree_rss_mib: float | None = None  # sum over the live process tree, sampled every 20 ms
    exit_code: int | None = None
    error: str | None = None
    totals: dict[str, int] | None = None
    days: list[dict[str, Any]] = field(default_factory=list)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit_code == 0


def tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (0 where unreadable)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm", "rb") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        pid = int(entry)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * PAGE_KIB
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


def measure(name: str, argv: list[str], env: dict[str, str], timeout: float) -> Run:
    """Run a command; wall time, CPU and peak memory include the processes it waits for."""
    run = Run(name, argv)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, start_new_session=True)
        except OSError as e:
            run.error = f"could not start: {e}"
            return run
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_kib(proc.pid))
                done.wait(0.02)

        def kill() -> None:
            run.error = f"timed out after {timeout:.0f} s"
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        run.wall_s = time.perf_counter() - start
        timer.cancel()
        done.set()
        sampler.join()
        proc.returncode = run.exit_code = os.waitstatus_to_exitcode(status)
        run.cpu_s = usage.ru_utime + usage.ru_stime
        run.max_rss_mib = usage.ru_maxrss / 1024  # KiB on Linux
        run.tree_rss_mib = peak[0] / 1024 if peak[0] else None
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        run.stderr_tail = err.read().decode("utf-8", "replace")[-3000:]
    if run.exit_code != 0 and run.error is None:
        run.error = f"exit code {run.exit_code}"
    if run.error is None and stdout.lstrip().startswith("{"):
        try:
            data = json.loads(stdout)
            run.totals = {k: int(data["totals"].get(k, 0)) for k in FIELDS}
            run.days = data.get("daily", [])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            run.error = f"unreadable JSON output: {e}"
    if run.error:
        print(f"\n** {name} failed: {run.error}\n{run.stderr_tail}", file=sys.stderr)
    return run


def bench_env(corpus: Path, home: Path, spendlane_home: Path) -> dict[str, str]:
    """A minimal environment: nothing from the real home (or XDG dirs) can leak into a run."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(corpus / "claude"),
        "CODEX_HOME": str(corpus / "codex"),
        "SPENDLANE_HOME": str(spendlane_home),
        "NO_COLOR": "1",
    }


def find_spendlane() -> str | None:
    exe = REPO / ".venv" / "bin" / "spendlane"
    return str(exe) if exe.exists() else shutil.which("spendlane")


def find_ccusage(given: str | None) -> str | None:
    candidate = given or os.environ.get("CCUSAGE") or "ccusage"
    return candidate if os.path.isfile(candidate) else shutil.which(candidate)


def version(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout or done.stderr).strip().splitlines()[-1] if done.returncode == 0 else None


def dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def expected_days(manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per-day totals in ccusage's fields (Codex input split into uncached input + cache reads)."""
    days: dict[str, dict[str, int]] = {}
    for day, t in manifest.get("claude", {}).get("by_day", {}).items():
        row = days.setdefault(day, dict.fromkeys(FIELDS, 0))
        row["inputTokens"] += t["input_tokens"]
        row["outputTokens"] += t["output_tokens"]
        row["cacheCreationTokens"] += t["cache_creation_tokens"]
        row["cacheReadTokens"] += t["cache_read_tokens"]
    for day, t in manifest.get("codex", {}).get("by_day", {}).items():
        row = days.setdefault(day, dict.fromkeys(FIELDS, 0))
        row["inputTokens"] += t["input_tokens"] - t["cached_input_tokens"]
        row["outputTokens"] += t["output_tokens"]
        row["cacheReadTokens"] += t["cached_input_tokens"]
    for row in days.values():
        row["totalTokens"] = sum(row[k] for k in FIELDS[:4])
    return days


def days_matching(run: Run, truth: dict[str, dict[str, int]]) -> tuple[int, int]:
    """How many of the truth's days the tool reports with exactly the same four token counts."""
    seen = {}
    for row in run.days:
        day = row.get("date") or row.get("period")
        if isinstance(day, str):
            seen[day[:10]] = row
    good = sum(
        1
        for day, want in truth.items()
        if day in seen and all(seen[day].get(k) == want[k] for k in FIELDS[:4])
    )
    return good, len(truth)


def ensure_corpus(args: argparse.Namespace) -> tuple[Path, Run | None]:
    """The corpus to use, generated (and timed) first when it is missing."""
    if args.corpus:
        corpus = Path(args.corpus).resolve()
        if not (corpus / "claude").is_dir() and not (corpus / "codex").is_dir():
            sys.exit(f"{corpus} holds neither claude/ nor codex/")
        return corpus, None
    size = f"{args.size_mb:g}"
    corpus = OUT / f"gencorpus-{size}mb-seed{args.seed}"
    if (corpus / "manifest.json").exists():
        return corpus, None
    if corpus.exists():  # an interrupted generation: start again
        shutil.rmtree(corpus)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"generating a {size} MB corpus into {corpus} ...", file=sys.stderr)
    argv = [sys.executable, str(BENCH / "gen_corpus.py"), str(corpus), "--size-mb", size]
    argv += ["--seed", str(args.seed)]
    gen = measure("generate corpus", argv, dict(os.environ), args.timeout)
    if not (corpus / "manifest.json").exists():
        sys.exit("corpus generation failed")
    return corpus, gen


def fmt_delta(value: int | None, want: int | None) -> str:
    if value is None:
        return "n/a"
    if want is None:
        return f"{value:,}"
    diff = value - want
    return f"{value:,} (=)" if diff == 0 else f"{value:,} ({diff:+,}, {diff / max(want, 1):+.2%})"


def summarize(runs: list[Run]) -> dict[str, Any]:
    ok = [r for r in runs if r.ok] or runs
    walls = [r.wall_s for r in ok]
    return {
        "wall_s": statistics.median(walls),
        "wall_min_s": min(walls),
        "cpu_s": statistics.median(r.cpu_s for r in ok),
        "max_rss_mib": statistics.median(r.max_rss_mib for r in ok),
        "tree_rss_mib": max((r.tree_rss_mib or 0) for r in ok) or None,
        "ok": all(r.ok for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", help="reuse this corpus (a folder with claude/ and codex/)")
    ap.add_argument("--ccusage", help="ccusage executable (default: $CCUSAGE, then PATH)")
    ap.add_argument("--warm-runs", type=int, default=5)
    ap.add_argument("--ccusage-runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per command")
    ap.add_argument("--results", default=str(OUT / "results.json"))
    args = ap.parse_args(argv)

    corpus, gen = ensure_corpus(args)
    manifest: dict[str, Any] = {}
    if (corpus / "manifest.json").exists():
        manifest = json.loads((corpus / "manifest.json").read_text())
    truth_totals: dict[str, int] | None = manifest.get("expected", {}).get("all")
    truth_days = expected_days(manifest)
    if truth_totals is None:
        print("note: no bench/gen_corpus.py manifest: totals are compared between tools only")

    scratch = Path(tempfile.mkdtemp(prefix="spendlane-bench-"))
    home = scratch / "home"
    home.mkdir()
    results: dict[str, list[Run]] = {}
    tools: dict[str, str | None] = {}
    ledger_mib = None
    try:
        spendlane = find_spendlane()
        if spendlane is None:
            print("spendlane not found (.venv/bin/spendlane or PATH): skipping it", file=sys.stderr)
        else:
            tools["spendlane"] = version([spendlane, "--version"])
            sl_home = scratch / "spendlane-home"
            sl_home.mkdir()
            env = bench_env(corpus, home, sl_home)
            cmd = [spendlane, "daily", "--json"]
            results["spendlane cold"] = [measure("spendlane cold", cmd, env, args.timeout)]
            ledger_mib = dir_mib(sl_home)
            results["spendlane warm"] = [
                measure("spendlane warm", cmd, env, args.timeout) for _ in range(args.warm_runs)
            ]
        ccusage = find_ccusage(args.ccusage)
        if ccusage is None:
            print(
                "ccusage not found (--ccusage PATH, $CCUSAGE or PATH): skipping it",
                file=sys.stderr,
            )
        else:
            tools["ccusage"] = version([ccusage, "--version"])
            env = bench_env(corpus, home, scratch / "unused")
            cmd = [ccusage, "daily", "--json", "--offline"]
            results["ccusage"] = [
                measure("ccusage", cmd, env, args.timeout) for _ in range(args.ccusage_runs)
            ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    # -- report
    files = manifest.get("files", {}).get("total")
    mb = manifest.get("bytes", {}).get("total")
    lines = [
        f"## spendlane vs ccusage on {corpus.name}",
        "",
        f"Corpus: {mb / 1e6:,.0f} MB, {files:,} files" if mb and files else f"Corpus: {corpus}",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; " + ", ".join(v for v in tools.values() if v),
        "",
        "| run | wall s | CPU s | peak RSS MiB (largest process) | peak RSS MiB (tree) | ok |",
        "|---|---:|---:|---:|---:|---|",
    ]
    summary: dict[str, Any] = {}
    if gen is not None:
        summary["generate corpus"] = summarize([gen])
    for name, runs in results.items():
        summary[name] = summarize(runs)
    for name, s in summary.items():
        label = name
        n = len(results.get(name, [gen]))
        if n > 1:
            label += f" (median of {n}, min {s['wall_min_s']:.2f} s)"
        tree = f"{s['tree_rss_mib']:.0f}" if s["tree_rss_mib"] else "n/a"
        lines.append(
            f"| {label} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | {s['max_rss_mib']:.0f} | {tree} "
            f"| {'yes' if s['ok'] else 'FAILED'} |"
        )
    if ledger_mib is not None:
        lines += ["", f"Ledger after the cold run: {ledger_mib:.1f} MiB."]

    compared = {
        name: next((r for r in runs if r.totals is not None), runs[0])
        for name, runs in results.items()
        if name != "spendlane warm"
    }
    lines += ["", "| tokens | truth (manifest) | " + " | ".join(compared) + " |"]
    lines.append("|---|---:|" + "---:|" * len(compared))
    for k in FIELDS:
        want = truth_totals.get(k) if truth_totals else None
        cells = [fmt_delta(r.totals.get(k) if r.totals else None, want) for r in compared.values()]
        lines.append(
            f"| {k} | {want if want is None else f'{want:,}'} | " + " | ".join(cells) + " |"
        )
    day_scores: dict[str, tuple[int, int]] = {}
    if truth_days:
        for name, r in compared.items():
            day_scores[name] = days_matching(r, truth_days)
        cells = [f"{a}/{b}" for a, b in day_scores.values()]
        lines.append("| days equal to truth | " + " | ".join(["", *cells]) + " |")
    print("\n".join(lines))

    record = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "tools": tools,
        "corpus": {
            "path": str(corpus),
            "files": manifest.get("files"),
            "bytes": manifest.get("bytes"),
            "generator_args": manifest.get("args"),
        },
        "summary": summary,
        "truth": truth_totals,
        "totals": {name: r.totals for name, r in compared.items()},
        "days_equal_to_truth": {n: {"equal": a, "of": b} for n, (a, b) in day_scores.items()},
        "ledger_mib": ledger_mib,
        "runs": [
            {k: v for k, v in asdict(r).items() if k != "days"}
            for runs in ([[gen]] if gen else []) + list(results.values())
            for r in runs
        ],
    }
    out = Path(args.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
