"""Versioned schema of the SQLite ledger. Append new steps; never edit a released one.

`PRAGMA user_version` holds how many steps a ledger has had. Each step runs in the same
write transaction as the version bump, so a crash leaves the ledger at one version or the next.
"""

from __future__ import annotations

_TOKEN_COLUMNS = """
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
"""

# Rollup maintenance: a trigger adds (sign = +1) or removes (sign = -1) one event's share.
_ROLLUP_CHANGE = """
    INSERT INTO rollup_15m (bucket, source, provider, model, events, input_tokens,
        output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,
        reasoning_tokens, web_search_requests, cost_nano, reported_cost_nano, auto_cost_nano,
        unpriced_events, estimated_events)
    VALUES ({row}.ts_ms / 900000, {row}.source, {row}.provider, {row}.model, {sign},
        {sign} * {row}.input_tokens, {sign} * {row}.output_tokens,
        {sign} * {row}.cache_write_5m_tokens, {sign} * {row}.cache_write_1h_tokens,
        {sign} * {row}.cache_read_tokens, {sign} * {row}.reasoning_tokens,
        {sign} * {row}.web_search_requests, {sign} * coalesce({row}.cost_nano, 0),
        {sign} * coalesce({row}.reported_cost_nano, 0),
        {sign} * coalesce({row}.reported_cost_nano, {row}.cost_nano, 0),
        {sign} * ({row}.cost_nano IS NULL), {sign} * ({row}.cost_basis = 'estimated'))
    ON CONFLICT (bucket, source, provider, model) DO UPDATE SET
        events = events + excluded.events,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        cache_write_5m_tokens = cache_write_5m_tokens + excluded.cache_write_5m_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        web_search_requests = web_search_requests + excluded.web_search_requests,
        cost_nano = cost_nano + excluded.cost_nano,
        reported_cost_nano = reported_cost_nano + excluded.reported_cost_nano,
        auto_cost_nano = auto_cost_nano + excluded.auto_cost_nano,
        unpriced_events = unpriced_events + excluded.unpriced_events,
        estimated_events = estimated_events + excluded.estimated_events;
"""

_V1 = f"""
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    {_TOKEN_COLUMNS}
    web_search_requests INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL,
    speed TEXT,
    model_estimated INTEGER NOT NULL DEFAULT 0,
    cost_nano INTEGER,
    reported_cost_nano INTEGER,
    cost_basis TEXT NOT NULL,
    session_id TEXT,
    project TEXT,
    project_dir TEXT,
    agent_id TEXT,
    is_sidechain INTEGER NOT NULL DEFAULT 0,
    git_branch TEXT,
    version TEXT,
    machine TEXT,
    agent TEXT,
    task_id TEXT,
    task_type TEXT,
    skill TEXT,
    account TEXT,
    lane TEXT,
    auth_mode TEXT,
    file_id INTEGER
);
CREATE INDEX events_ts ON events (ts_ms);
CREATE INDEX events_session ON events (session_id, ts_ms);

-- Sums per UTC quarter hour: every real time zone's day starts on one, so any report of
-- days, weeks or months in any zone reads these few rows instead of every event.
CREATE TABLE rollup_15m (
    bucket INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL,
    {_TOKEN_COLUMNS}
    web_search_requests INTEGER NOT NULL DEFAULT 0,
    cost_nano INTEGER NOT NULL,
    reported_cost_nano INTEGER NOT NULL,
    auto_cost_nano INTEGER NOT NULL,
    unpriced_events INTEGER NOT NULL,
    estimated_events INTEGER NOT NULL,
    PRIMARY KEY (bucket, source, provider, model)
) WITHOUT ROWID;

CREATE TRIGGER events_rollup_insert AFTER INSERT ON events BEGIN
{_ROLLUP_CHANGE.format(row="new", sign="1")}
END;
CREATE TRIGGER events_rollup_delete AFTER DELETE ON events BEGIN
{_ROLLUP_CHANGE.format(row="old", sign="-1")}
END;
CREATE TRIGGER events_rollup_update AFTER UPDATE ON events BEGIN
{_ROLLUP_CHANGE.format(row="old", sign="-1")}
{_ROLLUP_CHANGE.format(row="new", sign="1")}
END;

-- One row per log file read: where the next read starts, and what the parser must remember.
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    head_len INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    state TEXT,
    malformed_lines INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL
);

-- Usage-limit messages ("Claude AI usage limit reached|<reset>"): when a window resets.
CREATE TABLE limit_notices (
    source TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    reset_at_ms INTEGER,
    text TEXT NOT NULL,
    session_id TEXT,
    PRIMARY KEY (source, ts_ms, text)
) WITHOUT ROWID;

-- Subscription window readings (Codex rate_limits; later the statusline's).
CREATE TABLE quota_readings (
    source TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    window TEXT NOT NULL,
    used_percent REAL NOT NULL,
    window_minutes INTEGER,
    resets_at_ms INTEGER,
    session_id TEXT,
    PRIMARY KEY (source, ts_ms, window)
) WITHOUT ROWID;
"""

MIGRATIONS: tuple[str, ...] = (_V1,)
