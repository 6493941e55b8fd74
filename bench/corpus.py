"""Generate a realistic corpus of Claude Code and Codex logs for benchmarks.

    python bench/corpus.py OUT_DIR [--size-mb 1000] [--seed 1] [--codex-share 0.15]

The shapes are the agents' own (see shared/formats.md): Claude Code transcripts with user,
assistant, summary, system and file-history lines of realistic lengths, streamed duplicate
copies of one response (earlier copies with fewer output tokens), Task-result usage decoys,
subagent files, resumed sessions that start with copies of another session's lines, the odd
<synthetic> usage-limit line and non-Anthropic model; Codex rollouts with session_meta,
turn_context, response items and token_count events repeated 1-3 times (a repeat carries the
same rate limits; plan-window usage climbs a point now and then and starts again at each
window's fixed reset time). Each file's modification time is its last line's, as the agents'
appends leave it. Deterministic for a seed. Writes OUT_DIR/manifest.json with the expected
deduplicated token totals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import uuid
from multiprocessing import Pool
from pathlib import Path
from typing import Any

CLAUDE_MODELS = [
    ("claude-sonnet-4-5-20250929", 0.55),
    ("claude-opus-4-1-20250805", 0.10),
    ("claude-opus-4-6", 0.15),
    ("claude-haiku-4-5-20251001", 0.20),
]
CODEX_MODELS = ["gpt-5-codex", "gpt-5.1-codex-max", "gpt-5.2-codex"]
START = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
SPAN_DAYS = 180
WORDS = [
    "the",
    "function",
    "returns",
    "a",
    "list",
    "of",
    "events",
    "keyed",
    "by",
    "message",
    "id",
    "so",
    "the",
    "ledger",
    "can",
    "dedupe",
    "streamed",
    "copies",
    "while",
    "the",
    "parser",
    "keeps",
    "only",
    "fields",
    "it",
    "needs",
    "and",
    "the",
    "test",
    "asserts",
    "totals",
    "refactor",
    "module",
    "import",
    "path",
    "config",
    "value",
    "error",
    "handler",
    "retry",
    "budget",
    "window",
    "quota",
]


def dumps(value: Any) -> str:
    """One compact JSON line, as the agents write them."""
    return json.dumps(value, separators=(",", ":")) + "\n"


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def write_log(path: Path, lines: list[str], last: dt.datetime) -> None:
    """Write a log with the modification time an agent's appends leave: its last line's."""
    path.write_text("".join(lines))
    os.utime(path, (last.timestamp(), last.timestamp()))


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def pick_model(rng: random.Random) -> str:
    x = rng.random()
    for model, share in CLAUDE_MODELS:
        x -= share
        if x <= 0:
            return model
    return CLAUDE_MODELS[0][0]


class Truth:
    """Expected totals: the largest copy of each Claude call, Codex per-turn deltas."""

    def __init__(self) -> None:
        self.claude: dict[str, tuple[int, int, int, int]] = {}
        self.codex = [0, 0, 0, 0]

    def claude_call(self, key: str, usage: tuple[int, int, int, int]) -> None:
        held = self.claude.get(key)
        if held is None or sum(usage) > sum(held):
            self.claude[key] = usage


def claude_session(
    rng: random.Random,
    folder: Path,
    project: str,
    target_bytes: int,
    truth: Truth,
    resumed_from: list[str] | None,
) -> tuple[int, list[str]]:
    """One session file (and maybe a subagent file); returns bytes written and its lines."""
    session = str(uuid.UUID(int=rng.getrandbits(128)))
    when = START + dt.timedelta(days=rng.random() * SPAN_DAYS)
    lines: list[str] = list(resumed_from or [])
    written = sum(len(x) for x in lines)
    model = pick_model(rng)
    context = rng.randint(8_000, 40_000)
    common = {"cwd": project, "sessionId": session, "version": "2.0.42", "gitBranch": "main",
              "userType": "external"}  # fmt: skip
    while written < target_bytes:
        when += dt.timedelta(seconds=rng.randint(5, 240))
        result = rng.random() < 0.6
        user: dict[str, Any] = {
            "parentUuid": str(uuid.UUID(int=rng.getrandbits(128))), "isSidechain": False,
            **common, "type": "user",
            "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": f"toolu_{rng.getrandbits(64):x}",
                 "content": text(rng, rng.randint(20, 400))}
            ] if result else text(rng, rng.randint(5, 60))},
            "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "timestamp": iso(when),
        }  # fmt: skip
        if rng.random() < 0.03:
            user["toolUseResult"] = {
                "status": "completed",
                "totalTokens": 5000,
                "usage": {"input_tokens": 4000, "output_tokens": 900},
            }
        lines.append(dumps(user))
        message_id = f"msg_01{rng.getrandbits(96):024x}"
        request_id = f"req_011{rng.getrandbits(96):024x}"
        context = min(context + rng.randint(200, 4000), 260_000 if model.startswith("claude-s")
                      else 190_000)  # fmt: skip
        fresh = rng.randint(1, 600)
        write = rng.randint(0, 3000) if rng.random() < 0.7 else 0
        one_hour = write if rng.random() < 0.1 else 0
        read = max(context - fresh - write, 0)
        final = rng.randint(30, 2500)
        blocks = rng.choice([1, 1, 2, 2, 3])
        when += dt.timedelta(seconds=rng.randint(2, 30))
        for block in range(blocks):
            output = final if block == blocks - 1 else rng.randint(1, 40)
            content = (
                [{"type": "text", "text": text(rng, rng.randint(10, 120))}]
                if block == 0
                else [{"type": "tool_use", "id": f"toolu_{rng.getrandbits(64):x}",
                       "name": rng.choice(["Read", "Edit", "Bash", "Grep"]),
                       "input": {"command": text(rng, rng.randint(3, 30))}}]
            )  # fmt: skip
            line = {
                "parentUuid": str(uuid.UUID(int=rng.getrandbits(128))), "isSidechain": False,
                **common,
                "message": {"id": message_id, "type": "message", "role": "assistant",
                            "model": model, "content": content, "stop_reason": "tool_use",
                            "stop_sequence": None,
                            "usage": {"input_tokens": fresh,
                                      "cache_creation_input_tokens": write,
                                      "cache_read_input_tokens": read,
                                      "cache_creation": {
                                          "ephemeral_5m_input_tokens": write - one_hour,
                                          "ephemeral_1h_input_tokens": one_hour},
                                      "output_tokens": output, "service_tier": "standard"}},
                "requestId": request_id, "type": "assistant",
                "uuid": str(uuid.UUID(int=rng.getrandbits(128))), "timestamp": iso(when),
            }  # fmt: skip
            lines.append(dumps(line))
            truth.claude_call(f"{message_id}:{request_id}", (fresh, output, write, read))
        if rng.random() < 0.02:
            lines.append(dumps({"type": "system", "subtype": "compact_boundary",
                                "content": "Conversation compacted", "timestamp": iso(when),
                                **common}))  # fmt: skip
        if rng.random() < 0.02:
            lines.append(dumps({"type": "file-history-snapshot", "messageId": message_id,
                                "snapshot": {"trackedFileBackups": {}, "timestamp":
                                             iso(when)}}))  # fmt: skip
        written = sum(len(x) for x in lines[-blocks - 2 :]) + written
    if rng.random() < 0.01:
        reset = int(when.timestamp()) + 3600
        lines.append(
            dumps(
                {
                    **common,
                    "type": "assistant",
                    "isApiErrorMessage": True,
                    "timestamp": iso(when),
                    "message": {
                        "id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "model": "<synthetic>",
                        "role": "assistant",
                        "content": [
                            {"type": "text", "text": f"Claude AI usage limit reached|{reset}"}
                        ],
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    },
                }
            )
        )
    if rng.random() < 0.02:  # a non-Anthropic model run through Claude Code
        mid = f"msg_{uuid.UUID(int=rng.getrandbits(128))}"
        lines.append(
            dumps(
                {
                    **common,
                    "type": "assistant",
                    "timestamp": iso(when),
                    "message": {
                        "id": mid,
                        "model": "qwen3.5-plus",
                        "role": "assistant",
                        "content": [],
                        "usage": {"input_tokens": 900, "output_tokens": 120},
                    },
                }
            )
        )
        truth.claude_call(mid, (900, 120, 0, 0))
    path = folder / f"{session}.jsonl"
    write_log(path, lines, when)
    size = path.stat().st_size
    if rng.random() < 0.15:  # a subagent
        agent = f"{rng.getrandbits(32):08x}"
        sub = folder / session / "subagents" / f"agent-{agent}.jsonl"
        sub.parent.mkdir(parents=True, exist_ok=True)
        sub_lines = []
        for _ in range(rng.randint(3, 20)):
            mid, rid = f"msg_01{rng.getrandbits(96):024x}", f"req_011{rng.getrandbits(96):024x}"
            usage = (rng.randint(1, 300), rng.randint(50, 1500), rng.randint(0, 2000),
                     rng.randint(0, 30000))  # fmt: skip
            sub_lines.append(dumps({
                **common, "isSidechain": True, "agentId": agent, "type": "assistant",
                "requestId": rid, "timestamp": iso(when),
                "message": {"id": mid, "model": "claude-haiku-4-5-20251001", "role": "assistant",
                            "content": [{"type": "text", "text": text(rng, 40)}],
                            "usage": {"input_tokens": usage[0], "output_tokens": usage[1],
                                      "cache_creation_input_tokens": usage[2],
                                      "cache_read_input_tokens": usage[3]}}}))  # fmt: skip
            truth.claude_call(f"{mid}:{rid}", usage)
        write_log(sub, sub_lines, when)
        size += sub.stat().st_size
    return size, lines[: rng.randint(5, 40)]


def codex_rollout(rng: random.Random, root: Path, target_bytes: int, truth: Truth) -> int:
    session = str(uuid.UUID(int=rng.getrandbits(128)))
    when = START + dt.timedelta(days=rng.random() * SPAN_DAYS)
    folder = root / "sessions" / when.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{when.strftime('%Y-%m-%dT%H-%M-%S')}-{session}.jsonl"
    cwd = f"/home/dev/project-{rng.randint(0, 39)}"
    model = rng.choice(CODEX_MODELS)

    def env(kind: str, payload: dict[str, Any]) -> str:
        return dumps({"timestamp": iso(when), "type": kind, "payload": payload})

    lines = [
        env(
            "session_meta",
            {
                "id": session,
                "timestamp": iso(when),
                "cwd": cwd,
                "originator": "codex_cli_rs",
                "cli_version": "0.58.0",
                "model_provider": "openai",
                "git": {"branch": "main"},
            },
        ),
        env(
            "turn_context",
            {"cwd": cwd, "model": model, "effort": "medium", "approval_policy": "on-request"},
        ),
        env("event_msg", {"type": "token_count", "info": None, "rate_limits": None}),
    ]
    total = [0, 0, 0, 0]
    written = sum(len(x) for x in lines)
    # Plan windows as the account sees them: a fixed reset time, usage that climbs a point now
    # and then, and a new window once the reset passes.
    five_hours, week = dt.timedelta(hours=5), dt.timedelta(days=7)
    primary_reset = when + dt.timedelta(minutes=rng.randint(1, 300))
    weekly_reset = when + dt.timedelta(minutes=rng.randint(1, 10080))
    primary, weekly = rng.randint(0, 60), rng.randint(0, 80)
    while written < target_bytes:
        when += dt.timedelta(seconds=rng.randint(5, 120))
        if when >= primary_reset:
            primary_reset, primary = primary_reset + five_hours, 0
        if when >= weekly_reset:
            weekly_reset, weekly = weekly_reset + week, 0
        primary = min(100, primary + rng.choice((0, 0, 1, 1, 2)))
        weekly = min(100, weekly + (rng.random() < 0.1))
        chunk = [
            env("event_msg", {"type": "user_message", "message": text(rng, 30)}),
            env(
                "response_item",
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": json.dumps({"command": text(rng, 12)}),
                    "call_id": f"call_{rng.getrandbits(64):x}",
                },
            ),
            env(
                "response_item",
                {"type": "function_call_output", "output": text(rng, rng.randint(50, 400))},
            ),
            env("event_msg", {"type": "agent_message", "message": text(rng, 40)}),
        ]
        inp = rng.randint(5_000, 60_000)
        last = [inp, inp * rng.randint(50, 95) // 100, rng.randint(100, 4000), 0]
        last[3] = last[2] * rng.randint(0, 60) // 100
        total = [t + x for t, x in zip(total, last, strict=True)]
        truth.codex = [t + x for t, x in zip(truth.codex, last, strict=True)]

        def usage(v: list[int]) -> dict[str, int]:
            return {
                "input_tokens": v[0],
                "cached_input_tokens": v[1],
                "output_tokens": v[2],
                "reasoning_output_tokens": v[3],
                "total_tokens": v[0] + v[2],
            }

        limits = {"primary": {"used_percent": float(primary), "window_minutes": 300,
                              "resets_at": int(primary_reset.timestamp())},
                  "secondary": {"used_percent": float(weekly), "window_minutes": 10080,
                                "resets_at": int(weekly_reset.timestamp())}}  # fmt: skip
        for _ in range(rng.randint(1, 3)):  # repeats carry the same usage and limits
            chunk.append(env("event_msg", {"type": "token_count", "info": {
                "total_token_usage": usage(total), "last_token_usage": usage(last),
                "model_context_window": 272000}, "rate_limits": limits}))  # fmt: skip
        lines.extend(chunk)
        written += sum(len(x) for x in chunk)
    write_log(path, lines, when)
    return path.stat().st_size


def work(args: tuple[str, int, int, float, int]) -> dict[str, Any]:
    """One worker's share of the corpus (its own seed), and its truth."""
    out, budget, seed, codex_share, worker = args
    rng = random.Random(seed * 1000 + worker)
    root = Path(out)
    truth = Truth()
    made = files = 0
    previous: list[str] | None = None
    while made < budget:
        if rng.random() < codex_share:
            made += codex_rollout(rng, root / "codex", int(rng.lognormvariate(11.5, 1.2)), truth)
        else:
            project = f"/home/dev/project-{rng.randint(0, 39)}"
            folder = root / "claude" / "projects" / project.replace("/", "-")
            folder.mkdir(parents=True, exist_ok=True)
            size = min(int(rng.lognormvariate(12.3, 1.4)), 20_000_000)
            resumed = previous if rng.random() < 0.05 else None
            written, previous = claude_session(rng, folder, project, size, truth, resumed)
            made += written
        files += 1
    return {"bytes": made, "claude": truth.claude, "codex": truth.codex}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--size-mb", type=float, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--codex-share", type=float, default=0.15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ns = parser.parse_args()
    budget = int(ns.size_mb * 1_000_000 / ns.workers)
    jobs = [(ns.out, budget, ns.seed, ns.codex_share, w) for w in range(ns.workers)]
    with Pool(ns.workers) as pool:
        parts = pool.map(work, jobs)
    claude: dict[str, tuple[int, int, int, int]] = {}
    for part in parts:
        for key, usage in part["claude"].items():
            held = claude.get(key)
            if held is None or sum(usage) > sum(held):
                claude[key] = tuple(usage)  # type: ignore[assignment]
    fields = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
    claude_totals = dict(zip(fields, (sum(u[i] for u in claude.values()) for i in range(4)),
                             strict=True))  # fmt: skip
    codex = [sum(p["codex"][i] for p in parts) for i in range(4)]
    files = sum(1 for _ in Path(ns.out).rglob("*.jsonl"))
    manifest = {
        "bytes": sum(p["bytes"] for p in parts),
        "files": files,
        "seed": ns.seed,
        "claude": {**claude_totals, "calls": len(claude)},
        "codex": {"inputTokens": codex[0] - codex[1], "cacheReadTokens": codex[1],
                  "outputTokens": codex[2], "reasoningOutputTokens": codex[3]},
    }  # fmt: skip
    Path(ns.out, "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
