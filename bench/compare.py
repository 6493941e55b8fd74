"""Time spendlane cold and warm, and ccusage, on one corpus; print a markdown table.

    python bench/compare.py [--size-mb 1000] [--corpus DIR] [--ccusage PATH] [--cold-runs 7]
                            [--warm-runs 5]
    python bench/compare.py --warm-only [--warm-runs 9]
    python bench/compare.py --python /usr/bin/python3.11 ...

--python runs spendlane under another interpreter, in a venv of its own made (once) under
bench/out/ with the project installed in editable mode. A CPython built without PGO and LTO
(pyenv's default) runs spendlane's parse loop 10-15 % slower than the optimized builds that
distributions, python.org and uv ship; the figures in docs/benchmarks.md say which was used.

Generates the corpus with bench/corpus.py into bench/out/ if it is missing. Each command runs
as a child process with its own HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, SPENDLANE_HOME and TZ=UTC;
peak RSS comes from /usr/bin/time, wall time is measured around it. Results also go to
bench/out/results.json.

Cold runs of spendlane and ccusage alternate (spendlane on an empty ledger each time) and the
medians are reported, with their ratio: on a shared 2-core machine one run can be 10 % off the
next, and the same VM on another host can be a third faster or slower, so the output names the
CPU it ran on.

--warm-only times only the warm run, against a ledger kept in bench/out/warm-<corpus>/ (made
by one cold run the first time), after one untimed warm run, as the full run's warm runs follow
its cold one; a change to the warm path is measured in seconds rather than minutes. Results go
to bench/out/warm.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")


Run = tuple[float, int, dict[str, Any], float]


def timed(command: list[str], env: dict[str, str]) -> Run:
    """(wall seconds, peak RSS in MiB, parsed JSON stdout, CPU seconds of user and system) of
    one run. The wall time is taken around the child (/usr/bin/time's own is in hundredths,
    too coarse for a warm run). CPU time says what a run costs whatever else the host runs:
    on a shared machine wall times swing more."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M %U %S", "-o", report.name, *command],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        *_, rss_kib, user, system = report.read().split()
    cpu = round(float(user) + float(system), 2)
    return round(wall, 3), int(rss_kib) // 1024, json.loads(done.stdout), cpu


def machine() -> str:
    """The CPU model and core count, as the figures depend on them (Linux; else the platform)."""
    import platform

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores"


def interpreter_venv(python: str) -> Path:
    """A venv under bench/out/ for `python`, with this project installed (editable, so it
    runs the working tree), made the first time it is asked for."""
    version = subprocess.run([python, "-c", "import sys, sysconfig; print(sys.version.split()[0],"
                              " sysconfig.get_config_var('prefix'))"], capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    venv = BENCH / "out" / f"venv-{version[0]}{version[1].replace('/', '-')}"
    if not (venv / "bin" / "spendlane").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-e",
                        str(REPO)], check=True)  # fmt: skip
    return venv


def warm_only(spendlane: list[str], env: dict[str, str], state: Path, runs: int) -> None:
    """Warm runs only, on the kept ledger (built by one unreported cold run if missing)."""
    timed(spendlane, env)  # the cold run if there is no ledger yet; else an untimed warm-up
    warm = [timed(spendlane, env) for _ in range(runs)]
    seconds = sorted(w[0] for w in warm)
    result = {"median_seconds": statistics.median(seconds), "seconds": seconds,
              "peak_mib": max(w[1] for w in warm), "load": os.getloadavg()}  # fmt: skip
    (BENCH / "out" / "warm.json").write_text(json.dumps(result, indent=2))
    print(f"spendlane warm (nothing new), median of {runs}: {result['median_seconds']:.3f} s "
          f"(runs: {', '.join(f'{s:.3f}' for s in seconds)}), peak {result['peak_mib']} MiB, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--ccusage", default=os.environ.get("CCUSAGE"))
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--python", help="run spendlane under this interpreter (own venv)")
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="time only warm runs, on a ledger kept in bench/out/warm-<corpus>/",
    )
    ns = parser.parse_args()
    corpus = ns.corpus or BENCH / "out" / f"corpus-{ns.size_mb}"
    if not (corpus / "manifest.json").exists():
        subprocess.run([sys.executable, str(BENCH / "corpus.py"), str(corpus), "--size-mb",
                        str(ns.size_mb)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    manifest = json.loads((corpus / "manifest.json").read_text())
    if ns.warm_only:
        scratch = BENCH / "out" / f"warm-{corpus.name}"
        (scratch / "home").mkdir(parents=True, exist_ok=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="spendlane-bench-"))
        (scratch / "home").mkdir()
    env = {**os.environ, "HOME": str(scratch / "home"), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(corpus / "claude"), "CODEX_HOME": str(corpus / "codex"),
           "SPENDLANE_HOME": str(scratch / "spendlane")}  # fmt: skip
    venv = interpreter_venv(ns.python) if ns.python else REPO / ".venv"
    executable = venv / "bin" / "spendlane"
    spendlane = [str(executable) if executable.exists() else "spendlane", "daily", "--json"]
    if ns.warm_only:
        warm_only(spendlane, env, scratch, ns.warm_runs)
        return
    interpreter = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0], "
         "sys.base_prefix)"], capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    results: dict[str, Any] = {"corpus": {"path": str(corpus), **manifest},
                               "python": interpreter, "machine": machine()}  # fmt: skip
    ccusage = ns.ccusage or shutil.which("ccusage")
    local = REPO / ".cache/ccusage/node_modules/.bin/ccusage"
    ccusage = ccusage or (str(local) if local.exists() else None)
    colds: list[Run] = []
    theirs: list[Run] = []
    try:
        for _ in range(ns.cold_runs):
            shutil.rmtree(scratch / "spendlane", ignore_errors=True)  # an empty ledger
            colds.append(timed(spendlane, env))
            if ccusage:
                theirs.append(timed([ccusage, "daily", "--json", "--offline"], env))
        cold = _median_run(colds)
        results["spendlane_cold"] = _summary(colds)
        warm = [timed(spendlane, env) for _ in range(ns.warm_runs)]
        seconds = [w[0] for w in warm]
        results["spendlane_warm"] = {"median_seconds": statistics.median(seconds),
                                     "min_seconds": min(seconds),
                                     "peak_mib": max(w[1] for w in warm)}  # fmt: skip
        ours = cold[2]["totals"]
        results["spendlane_totals"] = {k: ours[k] for k in TOKENS}
        if theirs:
            median = _median_run(theirs)
            results["ccusage"] = {
                **_summary(theirs),
                "totals": {k: median[2]["totals"][k] for k in TOKENS},
            }
            results["tokens_equal"] = results["ccusage"]["totals"] == results["spendlane_totals"]
            results["ratio"] = round(cold[0] / median[0], 3)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Corpus: {manifest['bytes'] / 1e6:,.0f} MB, {manifest['files']:,} files; "
          f"spendlane on Python {interpreter}; {results['machine']}\n")  # fmt: skip
    print("| run | wall | peak memory |")
    print("|---|---|---|")
    runs = ns.cold_runs
    print(f"| spendlane cold (empty ledger), median of {runs} | {cold[0]:.2f} s | {cold[1]} MiB |")
    w = results["spendlane_warm"]
    print(f"| spendlane warm (nothing new), median of {ns.warm_runs} | {w['median_seconds']:.2f} s"
          f" | {w['peak_mib']} MiB |")  # fmt: skip
    if "ccusage" in results:
        c = results["ccusage"]
        print(f"| ccusage daily --json --offline, median of {runs} | {c['seconds']:.2f} s "
              f"| {c['peak_mib']} MiB |")  # fmt: skip
        print(f"\nCold runs: spendlane {results['spendlane_cold']['runs']}, "
              f"ccusage {c['runs']}")  # fmt: skip
        print(f"Ratio of the medians, spendlane / ccusage: {results['ratio']:.2f}")
        print(f"CPU (user + system), medians: spendlane "
              f"{results['spendlane_cold']['cpu_seconds']:.2f} s, ccusage "
              f"{c['cpu_seconds']:.2f} s")  # fmt: skip
        print(f"\nToken totals equal: {results['tokens_equal']}")
    else:
        print("\nccusage not found (set --ccusage or CCUSAGE, or run `make ccusage`)")


def _summary(runs: list[Run]) -> dict[str, Any]:
    """The median run's wall time and peak memory, every wall time, the median CPU time."""
    median = _median_run(runs)
    return {"seconds": median[0], "peak_mib": median[1], "runs": sorted(r[0] for r in runs),
            "cpu_seconds": statistics.median(r[3] for r in runs)}  # fmt: skip


def _median_run(runs: list[Run]) -> Run:
    """The run with the median wall time (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r[0])[(len(runs) - 1) // 2]


if __name__ == "__main__":
    main()
