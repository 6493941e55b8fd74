"""A small, realistic sample of Claude Code and Codex logs, for `spendlane demo`.

The lines have the exact shapes the agents write (streamed duplicate copies, a subagent file,
a Task result decoy, a usage-limit message, a Codex rollout with repeated token counts), so the
demo exercises the same paths real logs do. Tests build their fixtures with the same helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any


def iso(when: dt.datetime) -> str:
    """The agents' timestamp format: UTC, milliseconds, 'Z'."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{when.microsecond // 1000:03d}Z"
    )


def claude_assistant(
    *,
    when: dt.datetime,
    session_id: str,
    message_id: str,
    request_id: str | None,
    model: str = "claude-sonnet-4-5-20250929",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_5m: int = 0,
    cache_1h: int = 0,
    cache_read: int = 0,
    cwd: str = "/home/dev/project",
    sidechain: bool = False,
    agent_id: str | None = None,
    text: str = "Done.",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One assistant line of a Claude Code transcript."""
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_5m + cache_1h,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_5m,
            "ephemeral_1h_input_tokens": cache_1h,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    line: dict[str, Any] = {
        "parentUuid": str(uuid.uuid4()),
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session_id,
        "version": "2.0.42",
        "gitBranch": "main",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        },
        "type": "assistant",
        "uuid": str(uuid.uuid4()),
        "timestamp": iso(when),
    }
    if request_id is not None:
        line["requestId"] = request_id
    if agent_id is not None:
        line["agentId"] = agent_id
    if extra:
        line.update(extra)
    return line


def claude_user(
    *, when: dt.datetime, session_id: str, text: str, task_usage: dict[str, int] | None = None
) -> dict[str, Any]:
    """A user line; with `task_usage`, a Task tool result carrying a subagent's usage copy."""
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/project",
        "sessionId": session_id,
        "version": "2.0.42",
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": str(uuid.uuid4()),
        "timestamp": iso(when),
    }
    if task_usage is not None:
        line["toolUseResult"] = {"status": "completed", "totalTokens": 1, "usage": task_usage}
    return line


def claude_task_use(
    *,
    when: dt.datetime,
    session_id: str,
    message_id: str,
    request_id: str,
    tool_use_id: str,
    subagent_type: str,
    tool: str = "Task",
    output_tokens: int = 60,
) -> dict[str, Any]:
    """An assistant line that starts a subagent: a Task (newer builds: Agent) tool use."""
    line = claude_assistant(when=when, session_id=session_id, message_id=message_id,
                            request_id=request_id, output_tokens=output_tokens)  # fmt: skip
    line["message"]["content"] = [{
        "type": "tool_use", "id": tool_use_id, "name": tool,
        "input": {"description": "Look around", "prompt": "Find the flaky test",
                  "subagent_type": subagent_type},
    }]  # fmt: skip
    line["message"]["stop_reason"] = "tool_use"
    return line


def claude_task_result(
    *,
    when: dt.datetime,
    session_id: str,
    tool_use_id: str,
    agent_id: str,
    usage: dict[str, int],
    id_in_text: bool = True,
) -> dict[str, Any]:
    """The user line with a Task's result: the subagent's answer, its id, and a copy of its
    usage in `toolUseResult` (a copy: never counted)."""
    line = claude_user(when=when, session_id=session_id, text="")
    text = [{"type": "text", "text": "Found it: tests/test_io.py races on a temp file."}]
    if id_in_text:
        text.append({"type": "text", "text": f"agentId: {agent_id} (for resuming to continue "
                                             "this agent's work if needed)"})  # fmt: skip
    line["message"]["content"] = [
        {"tool_use_id": tool_use_id, "type": "tool_result", "content": text}
    ]
    line["toolUseResult"] = {
        "status": "completed", "prompt": "Find the flaky test", "agentId": agent_id,
        "content": text[:1], "totalDurationMs": 41230, "totalTokens": sum(usage.values()),
        "totalToolUseCount": 7, "usage": usage,
    }  # fmt: skip
    return line


def codex_line(when: dt.datetime, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": iso(when), "type": kind, "payload": payload}


def codex_usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": reasoning,
        "total_tokens": input_tokens + output,
    }


def codex_token_count(
    when: dt.datetime,
    total: dict[str, int] | None,
    last: dict[str, int] | None,
    primary_used: float = 12.0,
    resets_at: int | None = None,
) -> dict[str, Any]:
    """A `token_count` event; `total=None` writes `info: null` as Codex does at start. The
    5-hour window resets at `resets_at` (epoch seconds), by default an hour after `when`."""
    info = None
    if total is not None:
        info = {
            "total_token_usage": total,
            "last_token_usage": last,
            "model_context_window": 272000,
        }
    resets = int(when.timestamp()) + 3600 if resets_at is None else resets_at
    return codex_line(
        when,
        "event_msg",
        {
            "type": "token_count",
            "info": info,
            "rate_limits": {
                "primary": {
                    "used_percent": primary_used,
                    "window_minutes": 300,
                    "resets_at": resets,
                },
                "secondary": {
                    "used_percent": 4.0,
                    "window_minutes": 10080,
                    "resets_at": resets + 86400,
                },
            },
        },
    )


def _window(used: float, minutes: int, resets_at: int) -> dict[str, Any]:
    return {"used_percent": used, "window_minutes": minutes, "resets_at": resets_at}


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")


def write_demo_logs(root: Path, now: dt.datetime, seed: int = 7) -> tuple[Path, Path]:
    """Write a week of sample logs under `root`; return (claude config dir, codex home)."""
    rng = random.Random(seed)
    claude_root, codex_root = root / "claude", root / "codex"
    projects = ["/home/dev/webshop", "/home/dev/infra", "/home/dev/ml-pipeline"]
    models = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
    for day in range(7, -1, -1):
        for s in range(rng.randint(1, 3)):
            cwd = rng.choice(projects)
            session = str(uuid.uuid4())
            folder = claude_root / "projects" / cwd.replace("/", "-")
            start = now - dt.timedelta(days=day, hours=rng.randint(0, 6) + s)
            lines: list[dict[str, Any]] = []
            for turn in range(rng.randint(4, 12)):
                when = start + dt.timedelta(minutes=2 * turn)
                lines.append(claude_user(when=when, session_id=session, text="next step please"))
                msg, req = f"msg_{uuid.uuid4().hex[:24]}", f"req_{uuid.uuid4().hex[:24]}"
                model = rng.choice(models)
                fresh, written = rng.randint(3, 400), rng.randint(0, 6000)
                cached = rng.randint(5000, 90000)
                final = rng.randint(80, 1800)
                # Claude Code writes a streamed response once per content block: early copies
                # carry a smaller output count.
                for output in (rng.randint(1, 12), final):
                    lines.append(
                        claude_assistant(
                            when=when + dt.timedelta(seconds=3), session_id=session,
                            message_id=msg, request_id=req, model=model, cwd=cwd,
                            output_tokens=output, input_tokens=fresh, cache_5m=written,
                            cache_read=cached,
                        )
                    )  # fmt: skip
            agent, tool_use = uuid.uuid4().hex[:8], f"toolu_{uuid.uuid4().hex[:24]}"
            kind = rng.choice(["Explore", "general-purpose", "code-reviewer"])
            usage = {"input_tokens": 900, "cache_read_input_tokens": 12000, "output_tokens": 400}
            lines += [
                claude_task_use(when=when + dt.timedelta(seconds=30), session_id=session,
                                message_id=f"msg_{uuid.uuid4().hex[:24]}",
                                request_id=f"req_{uuid.uuid4().hex[:24]}",
                                tool_use_id=tool_use, subagent_type=kind),
                claude_task_result(when=when + dt.timedelta(minutes=2), session_id=session,
                                   tool_use_id=tool_use, agent_id=agent, usage=usage),
            ]  # fmt: skip
            write_jsonl(folder / f"{session}.jsonl", lines)
            subagents = folder / session / "subagents"
            write_jsonl(
                subagents / f"agent-{agent}.jsonl",
                [
                    claude_assistant(
                        when=when + dt.timedelta(minutes=1), session_id=session,
                        message_id=f"msg_{uuid.uuid4().hex[:24]}",
                        request_id=f"req_{uuid.uuid4().hex[:24]}",
                        model="claude-haiku-4-5-20251001", cwd=cwd, sidechain=True,
                        agent_id=agent, input_tokens=900, cache_read=12000, output_tokens=400,
                    )
                ],
            )  # fmt: skip
            if rng.random() < 0.5:  # newer builds also write the type beside the transcript
                (subagents / f"agent-{agent}.meta.json").write_text(
                    json.dumps({"agentType": kind, "spawnDepth": 1})
                )
        start = now - dt.timedelta(days=day, hours=2)
        session = str(uuid.uuid4())
        stamp = start.strftime("%Y-%m-%dT%H-%M-%S")
        path = (
            codex_root
            / "sessions"
            / start.strftime("%Y/%m/%d")
            / f"rollout-{stamp}-{session}.jsonl"
        )
        cwd = rng.choice(projects)
        lines = [
            codex_line(start, "session_meta", {"id": session, "timestamp": iso(start), "cwd": cwd,
                       "originator": "codex_cli_rs", "cli_version": "0.58.0",
                       "model_provider": "openai"}),
            codex_line(start, "turn_context", {"cwd": cwd, "model": "gpt-5-codex"}),
            codex_token_count(start, None, None),
        ]  # fmt: skip
        total = codex_usage(0, 0, 0, 0)
        for turn in range(rng.randint(3, 8)):
            when = start + dt.timedelta(minutes=3 * turn)
            inp = rng.randint(8000, 40000)
            last = codex_usage(inp, inp * 3 // 4, rng.randint(200, 3000), rng.randint(0, 800))
            total = {k: total[k] + last[k] for k in total}
            for _ in range(rng.randint(1, 3)):  # Codex repeats token_count events
                lines.append(codex_token_count(when, dict(total), last))
        write_jsonl(path, lines)
    return claude_root, codex_root
