"""Codex CLI rollouts: `$CODEX_HOME/{sessions,archived_sessions}/**/rollout-*.jsonl`.

Usage comes as `token_count` events carrying the session's running total. Codex repeats them
(the same total, the same `last_token_usage`), so summing `last_token_usage` overcounts about
threefold: a turn is counted only when the running total moved, as the difference of two
totals. Cached input is inside input and reasoning inside output; events store input as
uncached input and cached input as cache reads, so no token is counted twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec

from spendlane.events import RateLimitReading, UsageEvent
from spendlane.sources.jsonl import RecordReader
from spendlane.sources.locations import CODEX as SOURCE
from spendlane.sources.parsed import Parsed, iso_to_ms
from spendlane.sources.reading import Chunk


class _Tokens(msgspec.Struct):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    total_tokens: int | None = None

    def vector(self) -> tuple[int, int, int, int]:
        return (
            self.input_tokens or 0,
            self.cached_input_tokens or 0,
            self.output_tokens or 0,
            self.reasoning_output_tokens or 0,
        )


class _Info(msgspec.Struct):
    total_token_usage: _Tokens | None = None
    last_token_usage: _Tokens | None = None


class _Window(msgspec.Struct):
    used_percent: float | None = None
    window_minutes: int | None = None
    resets_at: int | None = None
    resets_in_seconds: int | None = None


class _RateLimits(msgspec.Struct):
    primary: _Window | None = None
    secondary: _Window | None = None


class _Spawn(msgspec.Struct):
    parent_thread_id: str | None = None


class _Subagent(msgspec.Struct):
    thread_spawn: _Spawn | None = None


class _Source(msgspec.Struct):
    subagent: _Subagent | str | None = None


class _Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    timestamp: str | None = None
    model: str | None = None
    model_provider: str | None = None
    cwd: str | None = None
    cli_version: str | None = None
    forked_from_id: str | None = None
    source: str | _Source | None = None
    info: _Info | None = None
    rate_limits: _RateLimits | None = None


class _Envelope(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: _Payload | None = None


class _State(msgspec.Struct):
    """What reading the rest of a rollout needs to know about what came before."""

    session_id: str | None = None
    model: str | None = None
    provider: str | None = None
    cwd: str | None = None
    version: str | None = None
    last_total: tuple[int, int, int, int] | None = None
    turns: int = 0
    replay_until_ms: int | None = None  # a fork's copied history ends by then


# A forked or subagent rollout opens with its parent's history copied in, every line stamped
# at the fork instant (then the ancestors' session metas). Its token counts are the parent's
# usage, already counted in the parent's rollout. The copy is written in one burst; the fork's
# own first turn needs a model call, so it lands later than this after the fork instant.
REPLAY_WINDOW_MS = 1000


# The model Codex used when a rollout names none, by the date it became the default.
_DEFAULT_MODELS: tuple[tuple[str, str], ...] = (
    ("2025-11-19", "gpt-5.1-codex-max"),
    ("2025-09-15", "gpt-5-codex"),
    ("0000-00-00", "gpt-5"),
)

_LOCAL_PROVIDERS = {"oss", "ollama", "lmstudio"}


def _default_model(ts_ms: int) -> str:
    day = dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).date().isoformat()
    return next(model for since, model in _DEFAULT_MODELS if day >= since)


def _session_from_name(path: str) -> str:
    stem = Path(path).stem  # rollout-2025-10-01T12-00-00-<uuid>
    return stem[-36:] if len(stem) >= 36 else stem


def _prefilter(data: bytes, start: int, end: int) -> bool:
    """Besides token counts (taken by the reader): the lines that set the model or session."""
    find = data.find
    return find(b'"turn_context"', start, end) >= 0 or find(b'"session_meta"', start, end) >= 0


def parse(chunk: Chunk, path: str) -> Parsed:
    """Turn a chunk of a rollout into one event per turn whose running total moved."""
    state = (
        msgspec.json.decode(chunk.cursor.state, type=_State)
        if chunk.cursor.state and not chunk.reset
        else _State()
    )
    reader: RecordReader[_Envelope] = RecordReader(_Envelope, _prefilter, take=b"token_count")
    events: list[UsageEvent] = []
    readings: list[RateLimitReading] = []
    for envelope, _, _ in reader.records(chunk):
        payload = envelope.payload
        if payload is None:
            continue
        if envelope.type == "session_meta":
            if state.session_id is None:  # later metas are copied ancestors' (forks)
                _start_session(state, payload, envelope.timestamp)
            continue
        if envelope.type == "turn_context":
            if payload.model:
                state.model = payload.model
            continue
        if envelope.type != "event_msg" or payload.type != "token_count":
            continue
        ts_ms = iso_to_ms(envelope.timestamp)
        if ts_ms is None:
            reader.malformed += 1
            continue
        if payload.rate_limits is not None:
            readings.extend(_readings(payload.rate_limits, ts_ms, state.session_id))
        delta = _turn_usage(payload.info, state)
        if state.replay_until_ms is not None:
            if ts_ms <= state.replay_until_ms:
                continue  # the parent's usage, copied: the running total is noted, not counted
            state.replay_until_ms = None
        if delta is None:
            continue
        session = state.session_id or _session_from_name(path)
        events.append(_event(delta, ts_ms, session, state))
        state.turns += 1
    return Parsed(
        events=events,
        readings=_runs_ends(readings),
        malformed=reader.malformed,
        resume_at=reader.resume_at,
        state=msgspec.json.encode(state).decode(),
    )


def _start_session(state: _State, payload: _Payload, envelope_ts: str | None) -> None:
    state.session_id = payload.id
    state.cwd = payload.cwd
    state.version = payload.cli_version
    state.provider = payload.model_provider
    source = payload.source
    spawned = (
        isinstance(source, _Source)
        and isinstance(source.subagent, _Subagent)
        and source.subagent.thread_spawn is not None
    )
    if payload.forked_from_id or spawned:
        fork_ms = iso_to_ms(payload.timestamp) or iso_to_ms(envelope_ts)
        if fork_ms is not None:
            state.replay_until_ms = fork_ms + REPLAY_WINDOW_MS


def _turn_usage(info: _Info | None, state: _State) -> tuple[int, int, int, int] | None:
    """This turn's (input, cached, output, reasoning), or None for a repeat or no usage."""
    if info is None:
        return None
    last = info.last_token_usage.vector() if info.last_token_usage else None
    if info.total_token_usage is None:
        return last if last and any(last) else None
    total = info.total_token_usage.vector()
    previous = state.last_total
    state.last_total = total
    if previous is None:
        return total if any(total) else None
    if total == previous:
        return None  # a repeated token_count: the same turn again
    delta = tuple(t - p for t, p in zip(total, previous, strict=True))
    if min(delta) < 0:
        return last  # the running total restarted: only this turn's own usage is new
    return (delta[0], delta[1], delta[2], delta[3])


def _event(usage: tuple[int, int, int, int], ts_ms: int, session: str, state: _State) -> UsageEvent:
    input_tokens, cached, output, reasoning = usage
    cached = min(cached, input_tokens)
    estimated = state.model is None
    model = state.model or _default_model(ts_ms)
    provider = state.provider or "openai"
    if provider in _LOCAL_PROVIDERS:
        provider = "local"
    return UsageEvent(
        key=f"cx:{session}:{state.turns}",
        ts_ms=ts_ms,
        source=SOURCE,
        provider=provider,
        model=model,
        model_estimated=estimated,
        input_tokens=input_tokens - cached,
        cache_read_tokens=cached,
        output_tokens=output,
        reasoning_tokens=min(reasoning, output),
        session_id=session,
        project=state.cwd,
        version=state.version,
    )


def _readings(limits: _RateLimits, ts_ms: int, session: str | None) -> list[RateLimitReading]:
    readings = []
    for name, window in (("primary", limits.primary), ("secondary", limits.secondary)):
        if window is None or window.used_percent is None:
            continue
        resets = window.resets_at
        if resets is None and window.resets_in_seconds is not None:
            resets = ts_ms // 1000 + window.resets_in_seconds
        readings.append(
            RateLimitReading(
                ts_ms=ts_ms,
                source=SOURCE,
                window=name,
                used_percent=window.used_percent,
                window_minutes=window.window_minutes,
                resets_at_ms=resets * 1000 if resets is not None else None,
                session_id=session,
            )
        )
    return readings


def _runs_ends(readings: list[RateLimitReading]) -> list[RateLimitReading]:
    """The first and last reading of each run of equal readings of a window.

    Codex repeats `token_count` events, and with them the same rate limits, many times a turn;
    what quota needs of a run (its latest reading, and the first of a window for the burn
    rate) is at its ends. A reading at the same instant as the run's first adds nothing.
    """
    by_window: dict[str, list[RateLimitReading]] = {}
    for reading in readings:
        by_window.setdefault(reading.window, []).append(reading)
    kept: list[RateLimitReading] = []
    for window in by_window.values():
        first = last = window[0]
        for reading in window[1:]:
            if _level(reading) == _level(first):
                last = reading
                continue
            kept.append(first)
            if last.ts_ms != first.ts_ms:
                kept.append(last)
            first = last = reading
        kept.append(first)
        if last.ts_ms != first.ts_ms:
            kept.append(last)
    return kept


def _level(reading: RateLimitReading) -> tuple[float, int | None, int | None]:
    return reading.used_percent, reading.resets_at_ms, reading.window_minutes
