"""Recording a model call the agents' logs do not show: a script's own API call, a proxy.

Accepts the field names operators already log (OpenAI's prompt/completion tokens or
Anthropic's input/output tokens), validates them with errors that name the field, prices the
call, and stores it as an event with source `record`. `event_id` makes recording idempotent.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spendlane.events import UsageEvent, implausible
from spendlane.ledger import SqliteLedger, WriteResult
from spendlane.money import usd_to_nano
from spendlane.providers import BACKENDS
from spendlane.sources.parsed import iso_to_ms

SOURCE = "record"

# What operators call a backend, and the provider that prices it.

_COUNTS = {
    # field -> what it is; prompt_tokens (OpenAI) includes cached input, input_tokens does not
    "input_tokens": "input", "prompt_tokens": "prompt",
    "output_tokens": "output", "completion_tokens": "output",
    "cache_read_tokens": "cache_read", "cached_tokens": "cache_read",
    "cache_creation_tokens": "cache_write", "cache_write_tokens": "cache_write",
    "cache_write_1h_tokens": "cache_write_1h", "reasoning_tokens": "reasoning",
}  # fmt: skip
_TEXT = ("agent", "task_id", "task_type", "session_id", "skill", "project", "machine",
         "account", "lane")  # fmt: skip
_KNOWN = {"timestamp", "backend", "provider", "model", "cost_usd", "duration_ms", "event_id",
          *_COUNTS, *_TEXT}  # fmt: skip


# An event field found implausible -> the record field to name in the error.
_FIELD_NAMES = {
    "ts_ms": "timestamp", "reported_cost_nano": "cost_usd", "cost_nano": "model",
    "cache_write_5m_tokens": "cache_creation_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "web_search_requests": "model",
}  # fmt: skip


class RecordError(ValueError):
    """A record that cannot be stored, naming the field and what was expected."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"field '{field}': {message}")


@dataclass(frozen=True, slots=True)
class Recorded:
    """One stored call: its id (given or generated), provider, model and costs."""

    event_id: str
    provider: str
    model: str
    cost_usd: float | None  # computed; None when the model has no known price
    reported_cost_usd: float | None


def to_event(fields: Mapping[str, Any], now_ms: int | None = None) -> UsageEvent:
    """Validate one record's fields and build its event (not yet priced)."""
    unknown = sorted(set(fields) - _KNOWN)
    if unknown:
        raise RecordError(
            unknown[0], f"unknown field; expected some of: {', '.join(sorted(_KNOWN))}"
        )
    model = fields.get("model")
    if not isinstance(model, str) or not model.strip():
        raise RecordError("model", "required: the model name, e.g. 'claude-sonnet-4-5'")
    backend = fields.get("provider", fields.get("backend"))
    if backend is not None and not isinstance(backend, str):
        raise RecordError("backend", "expected a provider name such as 'claude' or 'openai'")
    counts: dict[str, int] = {}
    for name, kind in _COUNTS.items():
        if name in fields and fields[name] is not None:
            value = fields[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RecordError(name, f"expected a whole number of tokens >= 0, got {value!r}")
            counts[kind] = counts.get(kind, 0) + value
    cache_read = counts.get("cache_read", 0)
    if "prompt" in counts:
        if cache_read > counts["prompt"]:
            raise RecordError("cached_tokens", "more cached tokens than prompt_tokens")
        counts["input"] = counts.get("input", 0) + counts["prompt"] - cache_read
    one_hour = counts.get("cache_write_1h", 0)
    cost = fields.get("cost_usd")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)
                             or cost < 0):  # fmt: skip
        raise RecordError("cost_usd", f"expected a non-negative number of dollars, got {cost!r}")
    duration = fields.get("duration_ms")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)
                                 or duration < 0):  # fmt: skip
        raise RecordError("duration_ms", f"expected milliseconds >= 0, got {duration!r}")
    ts_ms = _timestamp(fields.get("timestamp"), now_ms)
    event_id = fields.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not event_id):
        raise RecordError("event_id", "expected a non-empty string")
    text: dict[str, str | None] = {}
    for name in _TEXT:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordError(name, f"expected a string, got {value!r}")
        text[name] = value
    provider = BACKENDS.get(backend.lower(), backend.lower()) if backend else "unknown"
    return UsageEvent(
        key=f"rec:{event_id or uuid.uuid4()}",
        ts_ms=ts_ms,
        source=SOURCE,
        provider=provider,
        model=model.strip(),
        input_tokens=counts.get("input", 0),
        output_tokens=counts.get("output", 0),
        cache_write_5m_tokens=counts.get("cache_write", 0),
        cache_write_1h_tokens=one_hour,
        cache_read_tokens=cache_read,
        reasoning_tokens=min(counts.get("reasoning", 0), counts.get("output", 0)),
        reported_cost_nano=usd_to_nano(cost) if cost is not None else None,
        session_id=text["session_id"],
        project=text["project"],
        machine=text["machine"],
        agent=text["agent"],
        task_id=text["task_id"],
        task_type=text["task_type"],
        skill=text["skill"],
        account=text["account"],
        lane=text["lane"],
        auth_mode="api",
    )


def _timestamp(value: Any, now_ms: int | None) -> int:
    if value is None:
        return now_ms if now_ms is not None else int(time.time() * 1000)
    if isinstance(value, bool):
        raise RecordError("timestamp", "expected ISO 8601 or epoch seconds")
    if isinstance(value, int | float):
        return int(value * 1000) if value < 10**11 else int(value)  # seconds or milliseconds
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(when.timestamp() * 1000)
    if isinstance(value, str):
        parsed = iso_to_ms(value.strip())
        if parsed is not None:
            return parsed
    raise RecordError("timestamp", f"expected ISO 8601 or epoch seconds, got {value!r}")


def record_many(
    ledger: SqliteLedger, records: Iterable[Mapping[str, Any]]
) -> tuple[list[Recorded], WriteResult]:
    """Validate all, then price and store all in one transaction (all or nothing).

    The write result says how many were new; an `event_id` recorded before adds nothing.
    """
    from spendlane.pricing import Pricer

    events = [to_event(fields) for fields in records]
    pricer = Pricer()
    for event in events:
        pricer.price(event)
        field = implausible(event)
        if field is not None:
            raise RecordError(_FIELD_NAMES.get(field, field), "a value beyond any real call")
    result = ledger.insert_events(events)
    recorded = [
        Recorded(
            event_id=e.key.removeprefix("rec:"),
            provider=e.provider,
            model=e.model,
            cost_usd=e.cost_nano / 1e9 if e.cost_nano is not None else None,
            reported_cost_usd=(
                e.reported_cost_nano / 1e9 if e.reported_cost_nano is not None else None
            ),
        )
        for e in events
    ]
    return recorded, result
