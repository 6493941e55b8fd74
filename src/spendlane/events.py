"""The usage event: the one currency inside the house.

Every model call, whatever source it came from, becomes one `UsageEvent`. Token counts never
overlap (input is uncached input only; cache writes and reads are separate; reasoning is a part
of output, kept separately only so it can be shown and priced where a model prices it apart).
Money is integer nano-USD; floats appear only at the edges.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

import msgspec


class CostBasis(StrEnum):
    """How an event's cost was arrived at, so reports can say how far to trust it."""

    COMPUTED = "computed"  # priced from the model's published rates
    ESTIMATED = "estimated"  # priced, but the model was inferred (e.g. absent in a Codex rollout)
    UNPRICED = "unpriced"  # no rates known: counted, listed, never silently $0


class UsageEvent(msgspec.Struct, gc=False):
    """One model call.

    `key` is stable across re-reads and machines, so inserting is idempotent.
    `cost_nano` is our computed cost (None when unpriced); `reported_cost_nano` is what the
    agent itself reported, when it did.

    Build it with keywords. Only a parser's hot path passes fields by position (a first
    import makes hundreds of thousands of events, and keywords cost a microsecond each event
    to match), with a test that checks every field it sets.
    """

    key: str
    ts_ms: int
    source: str
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    web_search_requests: int = 0
    speed: str | None = None
    model_estimated: bool = False
    reported_cost_nano: int | None = None
    cost_nano: int | None = None
    cost_basis: str = CostBasis.UNPRICED
    session_id: str | None = None
    project: str | None = None
    project_dir: str | None = None
    agent_id: str | None = None
    is_sidechain: bool = False
    git_branch: str | None = None
    version: str | None = None
    machine: str | None = None
    agent: str | None = None
    task_id: str | None = None
    task_type: str | None = None
    skill: str | None = None
    account: str | None = None
    lane: str | None = None
    auth_mode: str | None = None

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def total_tokens(self) -> int:
        """All tokens of the call; the figure duplicates are compared on."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
            + self.cache_read_tokens
        )


def better_copy(a: UsageEvent, b: UsageEvent) -> bool:
    """Is `a` a better copy of the same model call than `b`?

    A main-thread copy beats a sidechain (subagent) copy; between copies of the same kind the
    larger token total wins (streamed responses are logged several times, earlier copies with
    fewer output tokens). This is also ccusage's rule, so totals agree.
    """
    if a.is_sidechain != b.is_sidechain:
        return not a.is_sidechain
    return a.total_tokens > b.total_tokens


# Bounds no real call comes near, chosen so that sums of millions of calls stay inside the
# ledger's 64-bit integers: a count or a cost beyond them is a corrupt line, not a call.
MAX_TOKENS = 10**10  # per field of one call
MAX_COST_NANO = 10**15  # $1,000,000 for one call
MAX_TS_MS = 253_370_678_400_000  # 9998-12-31T00:00:00Z


def implausible(event: UsageEvent) -> str | None:
    """Why `event` cannot be a real call (the field at fault), or None when it can be."""
    e = event  # the common case in one expression: this runs for every call ingested
    m = MAX_TOKENS  # (chained comparisons: min() and max() calls cost more than they read)
    if (
        0 <= e.ts_ms < MAX_TS_MS
        and 0 <= e.input_tokens <= m
        and 0 <= e.output_tokens <= m
        and 0 <= e.cache_write_5m_tokens <= m
        and 0 <= e.cache_write_1h_tokens <= m
        and 0 <= e.cache_read_tokens <= m
        and 0 <= e.reasoning_tokens <= m
        and 0 <= e.web_search_requests <= m
        and (e.cost_nano is None or -MAX_COST_NANO <= e.cost_nano <= MAX_COST_NANO)
        and (e.reported_cost_nano is None
             or -MAX_COST_NANO <= e.reported_cost_nano <= MAX_COST_NANO)
    ):  # fmt: skip
        return None
    if not 0 <= event.ts_ms < MAX_TS_MS:
        return "ts_ms"
    for name in _TOKEN_FIELDS:
        if not 0 <= getattr(event, name) <= MAX_TOKENS:
            return name
    for name in ("cost_nano", "reported_cost_nano"):
        value = getattr(event, name)
        if value is not None and not -MAX_COST_NANO <= value <= MAX_COST_NANO:
            return name
    return None


_TOKEN_FIELDS = (
    "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "cache_read_tokens", "reasoning_tokens", "web_search_requests",
)  # fmt: skip


def best_copies(events: list[UsageEvent]) -> tuple[dict[int, UsageEvent], int]:
    """One event per key id (the best copy), and how many copies were dropped."""
    best: dict[int, UsageEvent] = {}
    dropped = 0
    for event in events:
        ident = key_id(event.key)
        held = best.get(ident)
        if held is None:
            best[ident] = event
            continue
        dropped += 1
        if better_copy(event, held):
            best[ident] = event
    return best, dropped


def key_id(key: str) -> int:
    """A signed 63-bit id for a stable key: the ledger's integer primary key.

    An integer key keeps the primary index small and inserts fast; at 10 million events the
    chance of any collision is about 1 in 100,000.
    """
    digest = _new_hash()
    digest.update(key.encode())
    return int.from_bytes(digest.digest(), "big") >> 1


# A copy of a ready hasher: the same digest as blake2b(key, digest_size=8), without parsing
# the keyword on each of the hundreds of thousands of calls of a first import.
_new_hash = hashlib.blake2b(digest_size=8).copy


class LimitNotice(msgspec.Struct, kw_only=True):
    """A usage-limit message seen in a log: when a subscription window resets."""

    ts_ms: int
    source: str
    reset_at_ms: int | None
    text: str
    session_id: str | None = None


class AgentType(msgspec.Struct, kw_only=True):
    """What kind of subagent an agent id is ("Explore", "general-purpose", a custom agent).

    Learned from the subagent's `.meta.json` sidecar (`authoritative`) or from the parent's
    Task tool use linked to its result; the ledger keeps the authoritative answer.
    """

    agent_id: str
    agent_type: str
    authoritative: bool = False


# The window of a reading made from a usage-limit message in a log: whichever window the
# message is about, it is full until the reset it names.
USAGE_LIMIT_WINDOW = "usage_limit"


class RateLimitReading(msgspec.Struct, kw_only=True):
    """One reading of a provider's subscription window (Codex `rate_limits`)."""

    ts_ms: int
    source: str
    window: str  # "primary" | "secondary"
    used_percent: float
    window_minutes: int | None
    resets_at_ms: int | None
    session_id: str | None = None
    root: str = ""  # the agent folder it was read from (see sources.locations.log_root)
