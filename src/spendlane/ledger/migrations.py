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
    web_search_requests INTEGER NOT NULL DEFAULT 0,
"""

_V1 = f"""
-- Who and where a call was made for. Calls of one session share one row, which keeps the
-- events table narrow (inserting is paid per column).
CREATE TABLE contexts (
    id INTEGER PRIMARY KEY,
    session_id TEXT,
    project TEXT,
    project_dir TEXT,
    agent_id TEXT,
    git_branch TEXT,
    version TEXT,
    machine TEXT,
    agent TEXT,
    task_id TEXT,
    task_type TEXT,
    skill TEXT,
    account TEXT,
    lane TEXT,
    auth_mode TEXT
);

-- One row per model call. `id` is a 63-bit hash of the call's stable key.
-- flags: 1 = sidechain copy, 2 = model estimated. cost_nano NULL = unpriced.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    {_TOKEN_COLUMNS}
    cost_nano INTEGER,
    reported_cost_nano INTEGER,
    flags INTEGER NOT NULL DEFAULT 0,
    speed TEXT,
    context_id INTEGER NOT NULL REFERENCES contexts (id),
    file_id INTEGER
);
CREATE INDEX events_ts ON events (ts_ms);

-- Sums per UTC quarter hour: every real time zone's day starts on one, so any report of
-- days, weeks or months in any zone reads these few rows instead of every event. Kept in
-- step with `events` by the ledger's single write path, in the same transaction.
CREATE TABLE rollup_15m (
    bucket INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    {_TOKEN_COLUMNS}
    cost_nano INTEGER NOT NULL DEFAULT 0,
    reported_cost_nano INTEGER NOT NULL DEFAULT 0,
    auto_cost_nano INTEGER NOT NULL DEFAULT 0,
    unpriced_events INTEGER NOT NULL DEFAULT 0,
    estimated_events INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, source, provider, model)
) WITHOUT ROWID;

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

-- Event rows as the reports and exports see them: attribution joined, derived fields named.
CREATE VIEW event_rows AS
SELECT e.id, e.ts_ms, e.source, e.provider, e.model, e.input_tokens, e.output_tokens,
    e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens, e.reasoning_tokens,
    e.web_search_requests,
    e.input_tokens + e.output_tokens + e.cache_write_5m_tokens + e.cache_write_1h_tokens
        + e.cache_read_tokens AS total_tokens,
    e.cost_nano, e.reported_cost_nano,
    CASE WHEN e.cost_nano IS NULL THEN 'unpriced'
         WHEN e.flags & 2 THEN 'estimated' ELSE 'computed' END AS cost_basis,
    (e.flags & 1) AS is_sidechain, (e.flags & 2) / 2 AS model_estimated, e.speed,
    c.session_id, c.project, c.project_dir, c.agent_id, c.git_branch, c.version, c.machine,
    c.agent, c.task_id, c.task_type, c.skill, c.account, c.lane, c.auth_mode, e.file_id
FROM events e JOIN contexts c ON c.id = e.context_id;
"""

_V2 = """
-- What the price catalog answered for (provider hint, model, speed) over a run of UTC days;
-- card NULL = the catalog does not know the model. Valid for one catalog version only.
CREATE TABLE price_cache (
    catalog TEXT NOT NULL,
    hint TEXT NOT NULL,
    model TEXT NOT NULL,
    speed TEXT NOT NULL,
    from_day INTEGER NOT NULL,
    to_day INTEGER NOT NULL,
    provider TEXT NOT NULL,
    card TEXT,
    PRIMARY KEY (catalog, hint, model, speed, from_day)
) WITHOUT ROWID;
"""

_V3 = f"""
-- Which quarter hours each write changed, so per-zone day sums can be brought up to date
-- by recomputing only the days a write touched.
CREATE TABLE rollup_changes (
    seq INTEGER PRIMARY KEY,
    min_bucket INTEGER NOT NULL,
    max_bucket INTEGER NOT NULL
);
INSERT INTO rollup_changes (min_bucket, max_bucket)
    SELECT MIN(bucket), MAX(bucket) FROM rollup_15m WHERE bucket IS NOT NULL HAVING COUNT(*) > 0;

-- Sums per local day in one time zone (day = days since 1970-01-01 in that zone), derived
-- from rollup_15m: a year of days reads in a millisecond. `through_seq` says which changes
-- a zone's days include.
CREATE TABLE rollup_day (
    zone TEXT NOT NULL,
    day INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    {_TOKEN_COLUMNS}
    cost_nano INTEGER NOT NULL DEFAULT 0,
    reported_cost_nano INTEGER NOT NULL DEFAULT 0,
    auto_cost_nano INTEGER NOT NULL DEFAULT 0,
    unpriced_events INTEGER NOT NULL DEFAULT 0,
    estimated_events INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (zone, day, source, provider, model)
) WITHOUT ROWID;
CREATE TABLE rollup_day_state (
    zone TEXT PRIMARY KEY,
    through_seq INTEGER NOT NULL
);
"""

_SUMS_FROM_EVENTS = """COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_write_5m_tokens),
    SUM(cache_write_1h_tokens), SUM(cache_read_tokens), SUM(reasoning_tokens),
    SUM(web_search_requests), COALESCE(SUM(cost_nano), 0), COALESCE(SUM(reported_cost_nano), 0),
    SUM(COALESCE(reported_cost_nano, cost_nano, 0)), SUM(cost_nano IS NULL),
    SUM((flags & 2) != 0), MIN(ts_ms), MAX(ts_ms)"""

_V4 = f"""
-- The quarter-hour rollup gains the call's context (session, project, agent, task, …), so
-- reports grouped by any attribution, sessions and scoped budgets read sums, not events.
-- first_ms/last_ms: the earliest and latest call in the cell (session first/last activity).
CREATE TABLE rollup_ctx (
    bucket INTEGER NOT NULL,
    context_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    {_TOKEN_COLUMNS}
    cost_nano INTEGER NOT NULL DEFAULT 0,
    reported_cost_nano INTEGER NOT NULL DEFAULT 0,
    auto_cost_nano INTEGER NOT NULL DEFAULT 0,
    unpriced_events INTEGER NOT NULL DEFAULT 0,
    estimated_events INTEGER NOT NULL DEFAULT 0,
    first_ms INTEGER,
    last_ms INTEGER,
    PRIMARY KEY (bucket, context_id, source, provider, model)
) WITHOUT ROWID;
INSERT INTO rollup_ctx
    SELECT ts_ms / 900000, context_id, source, provider, model, {_SUMS_FROM_EVENTS}
    FROM events GROUP BY 1, 2, 3, 4, 5;
DROP TABLE rollup_15m;
ALTER TABLE rollup_ctx RENAME TO rollup_15m;
"""

_V5 = """
-- Money set aside for calls about to be made, so a hard stop holds when many start at once.
-- The scope columns say which budgets a reservation counts against (NULL: not known).
CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    amount_nano INTEGER NOT NULL,
    provider TEXT,
    model TEXT,
    agent TEXT,
    project TEXT,
    task_type TEXT,
    source TEXT,
    machine TEXT,
    account TEXT,
    note TEXT
);
CREATE INDEX reservations_expiry ON reservations (expires_ms);

-- Every alert raised, once per (kind, subject, level, period): the UNIQUE key is what makes
-- an alert fire exactly once across processes. Delivery is tracked on the same row.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    level TEXT NOT NULL,
    period_start_ms INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_ms INTEGER,
    UNIQUE (kind, subject, level, period_start_ms)
);
CREATE INDEX alerts_pending ON alerts (status) WHERE status = 'pending';
"""

_V6 = """
-- A lane its provider limited ("usage limit reached") and until when: `run` skips it.
CREATE TABLE lane_limits (
    lane TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
"""

_V7 = """
-- What kind of subagent each agent id is, learned from its sidecar (authoritative = 1) or its
-- parent's Task tool use. event_rows.agent is columns.AGENT_SQL, written out (a step is frozen).
CREATE TABLE agent_types (
    agent_id TEXT PRIMARY KEY,
    agent_type TEXT NOT NULL,
    authoritative INTEGER NOT NULL
) WITHOUT ROWID;
DROP VIEW event_rows;
CREATE VIEW event_rows AS
SELECT e.id, e.ts_ms, e.source, e.provider, e.model, e.input_tokens, e.output_tokens,
    e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens, e.reasoning_tokens,
    e.web_search_requests,
    e.input_tokens + e.output_tokens + e.cache_write_5m_tokens + e.cache_write_1h_tokens
        + e.cache_read_tokens AS total_tokens,
    e.cost_nano, e.reported_cost_nano,
    CASE WHEN e.cost_nano IS NULL THEN 'unpriced'
         WHEN e.flags & 2 THEN 'estimated' ELSE 'computed' END AS cost_basis,
    (e.flags & 1) AS is_sidechain, (e.flags & 2) / 2 AS model_estimated, e.speed,
    c.session_id, c.project, c.project_dir, c.agent_id, c.git_branch, c.version, c.machine,
    COALESCE(c.agent, (SELECT t.agent_type FROM agent_types t WHERE t.agent_id = c.agent_id),
        CASE WHEN c.agent_id IS NOT NULL THEN 'subagent' END) AS agent,
    c.task_id, c.task_type, c.skill, c.account, c.lane, c.auth_mode, e.file_id
FROM events e JOIN contexts c ON c.id = e.context_id;
"""

_V8 = """
-- Plan-window readings say which agent folder (Claude config dir, Codex home) they came from,
-- so the windows of several accounts are told apart; '' = not known (earlier readings).
-- The key columns come first: SQLite 3.40's integrity_check misreads a WITHOUT ROWID table
-- whose key column is declared after others.
CREATE TABLE quota_readings_v8 (
    source TEXT NOT NULL,
    root TEXT NOT NULL DEFAULT '',
    window TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    used_percent REAL NOT NULL,
    window_minutes INTEGER,
    resets_at_ms INTEGER,
    session_id TEXT,
    PRIMARY KEY (source, root, window, ts_ms)
) WITHOUT ROWID;
INSERT INTO quota_readings_v8 (source, root, window, ts_ms, used_percent, window_minutes,
                               resets_at_ms, session_id)
    SELECT source, '', window, ts_ms, used_percent, window_minutes, resets_at_ms, session_id
    FROM quota_readings;
DROP TABLE quota_readings;
ALTER TABLE quota_readings_v8 RENAME TO quota_readings;
"""

_V9 = f"""
-- Events get SQLite's own rowid, in insertion order, and the key hash moves to a unique
-- index. A hash as the table's key scattered every insert across the whole table (a first
-- import spent most of its write time splitting pages); now rows are appended and only the
-- narrow index takes the random inserts. Queries by `id` read the index, as before.
DROP VIEW event_rows;  -- it names events; made again below, as in v7 (a step is frozen)
CREATE TABLE events_v9 (
    id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    {_TOKEN_COLUMNS}
    cost_nano INTEGER,
    reported_cost_nano INTEGER,
    flags INTEGER NOT NULL DEFAULT 0,
    speed TEXT,
    context_id INTEGER NOT NULL REFERENCES contexts (id),
    file_id INTEGER
);
INSERT INTO events_v9 SELECT * FROM events ORDER BY ts_ms;
DROP TABLE events;
ALTER TABLE events_v9 RENAME TO events;
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_ts ON events (ts_ms);
CREATE VIEW event_rows AS
SELECT e.id, e.ts_ms, e.source, e.provider, e.model, e.input_tokens, e.output_tokens,
    e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens, e.reasoning_tokens,
    e.web_search_requests,
    e.input_tokens + e.output_tokens + e.cache_write_5m_tokens + e.cache_write_1h_tokens
        + e.cache_read_tokens AS total_tokens,
    e.cost_nano, e.reported_cost_nano,
    CASE WHEN e.cost_nano IS NULL THEN 'unpriced'
         WHEN e.flags & 2 THEN 'estimated' ELSE 'computed' END AS cost_basis,
    (e.flags & 1) AS is_sidechain, (e.flags & 2) / 2 AS model_estimated, e.speed,
    c.session_id, c.project, c.project_dir, c.agent_id, c.git_branch, c.version, c.machine,
    COALESCE(c.agent, (SELECT t.agent_type FROM agent_types t WHERE t.agent_id = c.agent_id),
        CASE WHEN c.agent_id IS NOT NULL THEN 'subagent' END) AS agent,
    c.task_id, c.task_type, c.skill, c.account, c.lane, c.auth_mode, e.file_id
FROM events e JOIN contexts c ON c.id = e.context_id;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9)
