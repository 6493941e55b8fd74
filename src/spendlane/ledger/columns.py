"""The ledger's column lists and flag bits, shared by the row builder and the SQL."""

from __future__ import annotations

EVENT_COLUMNS: tuple[str, ...] = (
    "id", "ts_ms", "source", "provider", "model",
    "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "cache_read_tokens", "reasoning_tokens", "web_search_requests",
    "cost_nano", "reported_cost_nano", "flags", "speed", "context_id",
)  # fmt: skip
CONTEXT_COLUMNS: tuple[str, ...] = (
    "session_id", "project", "project_dir", "agent_id", "git_branch", "version", "machine",
    "agent", "task_id", "task_type", "skill", "account", "lane", "auth_mode",
)  # fmt: skip
# The agent a call ran as (contexts alias `c`): the name a dispatcher gave, else the type of
# the Claude Code subagent that made it, else "subagent" for a subagent of unknown type.
AGENT_SQL = (
    "COALESCE(c.agent, (SELECT t.agent_type FROM agent_types t WHERE t.agent_id = c.agent_id), "
    "CASE WHEN c.agent_id IS NOT NULL THEN 'subagent' END)"
)
# The rollup's key: quarter hour, context (attribution), and what was called.
ROLLUP_KEY: tuple[str, ...] = ("bucket", "context_id", "source", "provider", "model")
# Rollup sums, in this order, as added by one event.
ROLLUP_SUMS: tuple[str, ...] = (
    "events", "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "cache_read_tokens", "reasoning_tokens", "web_search_requests", "cost_nano",
    "reported_cost_nano", "auto_cost_nano", "unpriced_events", "estimated_events",
)  # fmt: skip
FLAG_SIDECHAIN = 1
FLAG_ESTIMATED = 2
BUCKET_MS = 900_000
