"""A headless agent run's own output, turned into usage events and an outcome. Pure: no I/O.

`claude -p --output-format json` prints one final `type: "result"` object (with `--verbose`, a
JSON array of every message, the result last); `--output-format stream-json` prints one JSON
event per line, the last being that same result object. Its `modelUsage` has one entry per
model the run used, subagents included, each with the run's own `costUSD`: one event per model.

`codex exec --json` prints one JSON event per line. Event names checked against public
sources (the TypeScript SDK's `events.ts`, "based on event types from
codex-rs/exec/src/exec_events.rs", as copied in browseros-ai/BrowserOS-server
packages/codex-sdk-ts/src/events.ts and kelleyblackmore/codex-py codex_sdk/events.py; and the
JSONL quoted in openai/codex issue #37676): `thread.started{thread_id}`, `turn.started`,
`turn.completed{usage{input_tokens, cached_input_tokens, output_tokens}}`,
`turn.failed{error{message}}`, `item.started|item.updated|item.completed{item{id, type, ...}}`
(`item.type == "agent_message"` carries `text`; `item.type == "error"` is a non-fatal warning)
and `error{message}`. Cached input is inside `input_tokens`.

Events come out unpriced (`cost_nano` None) with the run's reported cost, when it reported
one, in `reported_cost_nano`; the caller prices and stores them like any other event.
Nothing here raises on any text: a line that is not JSON, or a field of the wrong type, is
skipped and counted.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from spendlane.events import MAX_TOKENS, UsageEvent, implausible
from spendlane.money import usd_to_nano
from spendlane.sources.claude_code import limit_reset_at_ms

SOURCE = "run"
UNKNOWN_MODEL = "unknown"

LimitKind = Literal["usage_limit", "rate_limit"]


@dataclass(frozen=True, slots=True)
class LimitHit:
    """A run stopped by a subscription usage limit or a rate limit, and when it lifts."""

    kind: LimitKind
    reset_at_ms: int | None
    text: str


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run's output says happened and what it used.

    `crashed`: the output has no final result (the run died, was killed, or printed nothing
    parseable), or it is an error that reports zero cost (Claude Code does that when a run
    crashes after spending): the caller must cost the run from the transcript or rollout named
    by `session_id` instead of from `events`.
    """

    ok: bool
    subtype: str | None
    result_text: str | None
    session_id: str | None
    num_turns: int | None
    reported_cost_nano: int | None
    events: list[UsageEvent]
    limit: LimitHit | None
    malformed_lines: int
    crashed: bool
    duration_ms: int | None = None
    overloaded: bool = False  # an overload (529) error: retry or --fallback-model, not a limit
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Limits

_USAGE_LIMIT = re.compile(r"usage[ _]limit|hit your (?:usage )?limit", re.IGNORECASE)
_RATE_LIMIT = re.compile(r"rate[ _-]?limit|\b429\b|too many requests", re.IGNORECASE)
_OVERLOADED = re.compile(r"overloaded|\b529\b", re.IGNORECASE)
_RESETS_AT = re.compile(r'"resets_at"\s*:\s*(\d{9,11})')
_RESETS_IN = re.compile(r'"resets_in_seconds"\s*:\s*(\d{1,9})')
_TRY_AGAIN_IN = re.compile(
    r"try again in\s+((?:\d+\s*(?:days?|hours?|minutes?|mins?|seconds?|secs?)[\s,]*(?:and\s+)?)+)",
    re.IGNORECASE,
)
_DURATION_PART = re.compile(r"(\d+)\s*(d|h|m|s)", re.IGNORECASE)
_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def detect_limit(text: str | None, ts_ms: int) -> LimitHit | None:
    """A usage or rate limit named in an error text, with its reset time when it gives one.

    "usage limit", "hit your limit" (Claude Code, Codex) -> usage_limit; "rate limit", "429",
    "too many requests" -> rate_limit; an overload ("overloaded", 529) is not a limit.
    Reset times: Claude Code's "…|<unix seconds>" and "resets 3pm (Zone)" (read by
    `claude_code.limit_reset_at_ms`), Codex's `"resets_at": <unix seconds>` /
    `"resets_in_seconds"` and "try again in 2 days 3 hours 4 minutes" (from `ts_ms`).
    """
    if not text:
        return None
    if _USAGE_LIMIT.search(text):
        kind: LimitKind = "usage_limit"
    elif _RATE_LIMIT.search(text) and not _OVERLOADED.search(text):
        kind = "rate_limit"
    else:
        return None
    return LimitHit(kind=kind, reset_at_ms=_reset_at_ms(text, ts_ms), text=text[:500])


def _reset_at_ms(text: str, ts_ms: int) -> int | None:
    claude = limit_reset_at_ms(text, ts_ms)
    if claude is not None:
        return claude
    at = _RESETS_AT.search(text)
    if at:
        return int(at.group(1)) * 1000
    seconds_in = _RESETS_IN.search(text)
    if seconds_in:
        return ts_ms + int(seconds_in.group(1)) * 1000
    again = _TRY_AGAIN_IN.search(text)
    if again:
        seconds = sum(
            int(n) * _SECONDS[unit.lower()] for n, unit in _DURATION_PART.findall(again.group(1))
        )
        return ts_ms + seconds * 1000 if seconds else None
    return None


def is_overloaded(text: str | None) -> bool:
    """An API overload (Anthropic's 529 `overloaded_error`): the case --fallback-model is for."""
    return bool(text) and _OVERLOADED.search(text or "") is not None


# ---------------------------------------------------------------------------------------------
# Tolerant field readers: a wrong type is as good as absent.


def _json_values(text: str) -> tuple[list[Any], int]:
    """The JSON values in `text`: the whole text as one value if it is one (the `json`
    format, compact or pretty-printed), else one per non-blank line; and how many non-blank
    lines were not JSON."""
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        return (whole if isinstance(whole, list) else [whole]), 0
    values: list[Any] = []
    malformed = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        try:
            values.append(json.loads(stripped))
        except (ValueError, RecursionError):
            malformed += 1
    return values, malformed


def _str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return value if isinstance(value, str) else None


def _dict(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = obj.get(name)
    return value if isinstance(value, dict) else None


def _count(obj: dict[str, Any] | None, name: str) -> int:
    """A token count: a whole number in 0..MAX_TOKENS, else 0."""
    value = obj.get(name) if obj is not None else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        return 0
    return value


def _opt_int(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        return None
    return value


def _usd_nano(obj: dict[str, Any] | None, name: str) -> int | None:
    """A reported dollar amount as exact nano-USD (`usd_to_nano`); None unless a finite
    number >= 0 that a run could plausibly cost."""
    value = obj.get(name) if obj is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        as_float = float(value)
    except OverflowError:
        return None
    if not math.isfinite(as_float) or not 0 <= as_float <= 1_000_000:
        return None
    return usd_to_nano(as_float)


def _provider(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "unknown"


# ---------------------------------------------------------------------------------------------
# claude -p


def parse_claude_result(text: str, *, run_id: str, ts_ms: int) -> RunOutcome:
    """`claude -p --output-format json` or `stream-json` output -> the run's outcome.

    One event per model in `modelUsage` (key `run:<run_id>:<model>`), else one from `usage`
    (the main loop only) under the model the stream names, or "unknown".
    """
    values, malformed = _json_values(text)
    result: dict[str, Any] | None = None
    init_model: str | None = None
    init_session: str | None = None
    synthetic_texts: list[str] = []
    for value in values:
        if not isinstance(value, dict):
            malformed += 1
            continue
        kind = value.get("type")
        if kind == "result":
            result = value
        elif kind == "system" and value.get("subtype") == "init":
            init_model = _str(value, "model") or init_model
            init_session = _str(value, "session_id") or init_session
        elif kind == "assistant":
            message = _dict(value, "message")
            if message is not None and message.get("model") == "<synthetic>":
                synthetic_texts.append(_content_text(message.get("content")))
            elif message is not None and init_model is None:
                init_model = _str(message, "model")

    if result is None:
        hint = " ".join(t for t in synthetic_texts if t) or None
        return RunOutcome(
            ok=False, subtype=None, result_text=None, session_id=init_session, num_turns=None,
            reported_cost_nano=None, events=[], limit=detect_limit(hint, ts_ms),
            malformed_lines=malformed, crashed=True, overloaded=is_overloaded(hint),
        )  # fmt: skip

    subtype = _str(result, "subtype")
    is_error = result.get("is_error") is True
    session_id = _str(result, "session_id") or init_session
    result_text = _str(result, "result")
    total_nano = _usd_nano(result, "total_cost_usd")
    raw_errors = result.get("errors")
    errors = [e for e in raw_errors if isinstance(e, str)] if isinstance(raw_errors, list) else []
    events, dropped = _claude_events(result, run_id, ts_ms, session_id, init_model, total_nano)
    failed = is_error or subtype != "success"
    detail = " ".join(t for t in (result_text, *errors, *synthetic_texts) if t) or None
    return RunOutcome(
        ok=not failed,
        subtype=subtype,
        result_text=result_text,
        session_id=session_id,
        num_turns=_opt_int(result, "num_turns"),
        reported_cost_nano=total_nano,
        events=events,
        limit=detect_limit(detail, ts_ms) if failed else None,
        malformed_lines=malformed + dropped,
        crashed=is_error and not total_nano,
        duration_ms=_opt_int(result, "duration_ms"),
        overloaded=failed and is_overloaded(detail),
        errors=errors,
    )


def _claude_events(
    result: dict[str, Any],
    run_id: str,
    ts_ms: int,
    session_id: str | None,
    stream_model: str | None,
    total_nano: int | None,
) -> tuple[list[UsageEvent], int]:
    """The run's events, and how many entries were dropped as impossible."""
    candidates: list[UsageEvent] = []
    model_usage = _dict(result, "modelUsage")
    if model_usage is not None:
        for raw_model, usage in model_usage.items():
            if not isinstance(usage, dict):
                continue
            model = raw_model.strip() or UNKNOWN_MODEL
            candidates.append(
                UsageEvent(
                    key=f"run:{run_id}:{model}",
                    ts_ms=ts_ms,
                    source=SOURCE,
                    provider=_provider(model),
                    model=model,
                    input_tokens=_count(usage, "inputTokens"),
                    output_tokens=_count(usage, "outputTokens"),
                    cache_read_tokens=_count(usage, "cacheReadInputTokens"),
                    cache_write_5m_tokens=_count(usage, "cacheCreationInputTokens"),
                    web_search_requests=_count(usage, "webSearchRequests"),
                    reported_cost_nano=_usd_nano(usage, "costUSD"),
                    session_id=session_id,
                )
            )
    else:
        usage = _dict(result, "usage")
        if usage is not None:
            model = stream_model or UNKNOWN_MODEL
            creation = _count(usage, "cache_creation_input_tokens")
            one_hour = _count(_dict(usage, "cache_creation"), "ephemeral_1h_input_tokens")
            one_hour = min(one_hour, creation)
            searches = _count(_dict(usage, "server_tool_use"), "web_search_requests")
            candidates.append(
                UsageEvent(
                    key=f"run:{run_id}:{model}",
                    ts_ms=ts_ms,
                    source=SOURCE,
                    provider=_provider(model),
                    model=model,
                    input_tokens=_count(usage, "input_tokens"),
                    output_tokens=_count(usage, "output_tokens"),
                    cache_read_tokens=_count(usage, "cache_read_input_tokens"),
                    cache_write_5m_tokens=creation - one_hour,
                    cache_write_1h_tokens=one_hour,
                    web_search_requests=searches,
                    reported_cost_nano=total_nano,
                    session_id=session_id,
                )
            )
    events: dict[str, UsageEvent] = {}
    dropped = 0
    for event in candidates:
        if implausible(event) is not None:
            dropped += 1
            continue
        known = events.get(event.key)
        if known is None:
            events[event.key] = event
            continue
        # two spellings of one model ("opus" and "opus "): one call each, so one event of both
        merged = _merged(known, event)
        if implausible(merged) is not None:
            dropped += 1
            continue
        events[event.key] = merged
    return list(events.values()), dropped


_SUMMED = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
           "cache_write_1h_tokens", "web_search_requests")  # fmt: skip


def _merged(first: UsageEvent, second: UsageEvent) -> UsageEvent:
    costs = [c for c in (first.reported_cost_nano, second.reported_cost_nano) if c is not None]
    return msgspec.structs.replace(
        first,
        reported_cost_nano=sum(costs) if costs else None,
        **{name: getattr(first, name) + getattr(second, name) for name in _SUMMED},
    )


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""


# ---------------------------------------------------------------------------------------------
# codex exec --json


def parse_codex_exec(text: str, *, run_id: str, ts_ms: int, model: str | None) -> RunOutcome:
    """`codex exec --json` output -> the run's outcome, one event per `turn.completed`
    (key `run:<run_id>:turn:<n>`, n from 1). `model` is the one the dispatcher asked for;
    without it events carry "unknown" (unpriced, listed) rather than a guess."""
    values, malformed = _json_values(text)
    thread_id: str | None = None
    result_text: str | None = None
    failures: list[str] = []
    completed = 0
    turn_failed = False
    events: list[UsageEvent] = []
    name = (model or "").strip() or UNKNOWN_MODEL
    for value in values:
        if not isinstance(value, dict):
            malformed += 1
            continue
        kind = value.get("type")
        if kind == "thread.started":
            thread_id = _str(value, "thread_id") or thread_id
        elif kind == "turn.completed":
            completed += 1
            usage = _dict(value, "usage")
            if usage is None:
                continue
            event = _codex_event(usage, name, f"run:{run_id}:turn:{completed}", ts_ms)
            if implausible(event) is not None:
                malformed += 1
                continue
            events.append(event)
        elif kind == "turn.failed":
            turn_failed = True
            error = _dict(value, "error")
            message = _str(error, "message") if error is not None else None
            failures.append(message or "turn failed")
        elif kind == "error":
            failures.append(_str(value, "message") or "error")
        elif kind == "item.completed":
            item = _dict(value, "item")
            if item is not None and item.get("type") == "agent_message":
                result_text = _str(item, "text") or result_text
    for event in events:
        event.session_id = thread_id
    detail = " ".join(dict.fromkeys(failures)) or None  # error + turn.failed often repeat
    return RunOutcome(
        ok=completed > 0 and not failures,
        subtype=None,
        result_text=result_text,
        session_id=thread_id,
        num_turns=completed,
        reported_cost_nano=None,
        events=events,
        limit=detect_limit(detail, ts_ms),
        malformed_lines=malformed,
        crashed=completed == 0 and not turn_failed and not failures,
        overloaded=is_overloaded(detail),
        errors=list(dict.fromkeys(failures)),
    )


def _codex_event(usage: dict[str, Any], model: str, key: str, ts_ms: int) -> UsageEvent:
    input_tokens = _count(usage, "input_tokens")
    cached = min(_count(usage, "cached_input_tokens"), input_tokens)
    output = _count(usage, "output_tokens")
    return UsageEvent(
        key=key,
        ts_ms=ts_ms,
        source=SOURCE,
        provider="openai",
        model=model,
        input_tokens=input_tokens - cached,
        cache_read_tokens=cached,
        output_tokens=output,
        reasoning_tokens=min(_count(usage, "reasoning_output_tokens"), output),
    )
