"""Claude Code transcripts: `<root>/projects/<encoded-cwd>/**/*.jsonl`.

Only `assistant` lines carry billable usage. One API response is written on several lines with
the same message id and request id, earlier copies with fewer output tokens: the key is
message id + request id, and the ledger keeps the copy with the largest total (a main-thread
copy over a sidechain one). `<synthetic>` lines are Claude Code's own messages, not model
calls; a usage-limit one tells when a subscription window resets.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import msgspec

from spendlane.events import LimitNotice, UsageEvent
from spendlane.money import usd_to_nano
from spendlane.sources.jsonl import RecordReader
from spendlane.sources.locations import CLAUDE_CODE as SOURCE
from spendlane.sources.parsed import Parsed, iso_to_ms
from spendlane.sources.reading import Chunk


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class _ServerToolUse(msgspec.Struct):
    web_search_requests: int | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: _CacheCreation | None = None
    server_tool_use: _ServerToolUse | None = None
    speed: str | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    content: msgspec.Raw = msgspec.Raw(b"null")


class _Line(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None
    requestId: str | None = None
    uuid: str | None = None
    cwd: str | None = None
    version: str | None = None
    gitBranch: str | None = None
    isSidechain: bool | None = None
    agentId: str | None = None
    isApiErrorMessage: bool | None = None
    isMeta: bool | None = None
    costUSD: float | None = None
    message: _Message | None = None


class _ToolUse(msgspec.Struct):
    type: str | None = None
    name: str | None = None
    input: dict[str, object] | None = None


_COMMAND = re.compile(rb"<command-name>\s*(/?[^<\s]+)\s*</command-name>")
_TOOL_USES = msgspec.json.Decoder(list[_ToolUse])


class _TextBlock(msgspec.Struct):
    type: str | None = None
    text: str | None = None


SYNTHETIC = "<synthetic>"
_LIMIT_PIPE = re.compile(r"usage limit reached\|(\d{9,11})")
_LIMIT_RESETS = re.compile(
    r"resets\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*(?:\(([^)]+)\))?", re.IGNORECASE
)


def project_dir_of(path: str) -> str | None:
    """The encoded-cwd folder a transcript lives in (`projects/<this>/...`)."""
    parts = Path(path).parts
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "projects" and i + 1 < len(parts) - 1:
            return parts[i + 1]
    return None


def _prefilter(line: bytes) -> bool:
    # assistant lines carry usage; a user prompt (not a tool result) starts a turn, and says
    # which skill the turn runs when it is a slash command
    return b'"assistant"' in line or (b'"user"' in line and b'"tool_result"' not in line)


def parse(chunk: Chunk, path: str) -> Parsed:
    """Turn a chunk of a transcript into events and usage-limit notices.

    Skills: a slash command (`<command-name>/review</command-name>` in the prompt) or a
    `Skill` tool use attributes the calls that follow in that turn to the skill. The skill in
    force is carried to the next chunk of the file in the parse state.
    """
    reader: RecordReader[_Line] = RecordReader(_Line, _prefilter)
    events: list[UsageEvent] = []
    notices: list[LimitNotice] = []
    project_dir = project_dir_of(path)
    file_agent = Path(path).stem[6:] if Path(path).name.startswith("agent-") else None
    skill = chunk.cursor.state or None
    for record in reader.records(chunk):
        line = record.value
        message = line.message
        if line.type == "user":
            if not line.isMeta:  # a new prompt: a new turn (the command's expansion is meta)
                raw = bytes(message.content) if message is not None else b""
                found = _COMMAND.search(raw)
                skill = found.group(1).decode("utf-8", "replace") if found else None
            continue
        if line.type != "assistant" or message is None:
            continue
        ts_ms = iso_to_ms(line.timestamp)
        if ts_ms is None:
            reader.malformed += 1
            continue
        if message.model == SYNTHETIC or line.isApiErrorMessage:
            notice = _limit_notice(line, ts_ms)
            if notice is not None:
                notices.append(notice)
            if message.model == SYNTHETIC:
                continue
        usage = message.usage
        if usage is None or message.model is None:
            continue
        if message.id:
            key = f"cc:{message.id}:{line.requestId}" if line.requestId else f"cc:{message.id}"
        elif line.uuid:
            key = f"cc:uuid:{line.uuid}"
        else:
            key = f"cc:file:{path}:{record.offset}"
        cache_creation = usage.cache_creation_input_tokens or 0
        one_hour = 0
        if usage.cache_creation is not None:
            one_hour = min(usage.cache_creation.ephemeral_1h_input_tokens or 0, cache_creation)
        model = message.model
        events.append(
            UsageEvent(
                key=key,
                ts_ms=ts_ms,
                source=SOURCE,
                provider="anthropic" if model.startswith("claude") else "unknown",
                model=model,
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
                cache_write_5m_tokens=cache_creation - one_hour,
                cache_write_1h_tokens=one_hour,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
                web_search_requests=(
                    usage.server_tool_use.web_search_requests or 0
                    if usage.server_tool_use is not None
                    else 0
                ),
                speed=usage.speed,
                reported_cost_nano=usd_to_nano(line.costUSD) if line.costUSD is not None else None,
                session_id=line.sessionId,
                project=line.cwd or project_dir,
                project_dir=project_dir,
                agent_id=line.agentId or file_agent,
                is_sidechain=bool(line.isSidechain),
                git_branch=line.gitBranch,
                version=line.version,
                skill=skill,
            )
        )
        skill = _skill_used(message) or skill
    return Parsed(
        events=events, notices=notices, malformed=reader.malformed, resume_at=reader.resume_at,
        state=skill or "",
    )  # fmt: skip


def _skill_used(message: _Message) -> str | None:
    """The skill a `Skill` tool use in this message invokes (its `skill` input), if any."""
    raw = bytes(message.content)
    if b'"Skill"' not in raw:
        return None
    try:
        blocks = _TOOL_USES.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    for block in blocks:
        if block.type == "tool_use" and block.name == "Skill" and block.input:
            name = block.input.get("skill") or block.input.get("command")
            if isinstance(name, str) and name:
                return name
    return None


def _limit_notice(line: _Line, ts_ms: int) -> LimitNotice | None:
    text = _message_text(line)
    if not text or "limit" not in text.lower():
        return None
    return LimitNotice(
        ts_ms=ts_ms, source=SOURCE, reset_at_ms=limit_reset_at_ms(text, ts_ms), text=text[:500],
        session_id=line.sessionId,
    )  # fmt: skip


def limit_reset_at_ms(text: str, ts_ms: int) -> int | None:
    """When a Claude Code usage-limit message says the window resets, in epoch ms.

    Reads both forms Claude Code writes: "Claude AI usage limit reached|<unix seconds>" and
    "You've hit your limit · resets 3pm (Europe/Berlin)" (the first such wall-clock time after
    `ts_ms`, when the message was seen). None when the text names no reset time.
    """
    pipe = _LIMIT_PIPE.search(text)
    if pipe:
        return int(pipe.group(1)) * 1000
    resets = _LIMIT_RESETS.search(text)
    if resets:
        return _next_local_time(ts_ms, resets)
    return None


def _message_text(line: _Line) -> str | None:
    content = line.message.content if line.message else None
    if content is None or content == b"null":
        return None
    try:
        blocks = msgspec.json.decode(content, type=list[_TextBlock] | str)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if isinstance(blocks, str):
        return blocks
    return " ".join(b.text for b in blocks if b.text)


def _next_local_time(ts_ms: int, match: re.Match[str]) -> int | None:
    """'resets 3pm (Europe/Berlin)': the first such wall-clock time after the message."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower()
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    try:
        zone: dt.tzinfo = ZoneInfo(match.group(4)) if match.group(4) else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    seen = dt.datetime.fromtimestamp(ts_ms / 1000, tz=zone)
    candidate = seen.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= seen:
        candidate = (candidate + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
    return int(candidate.timestamp() * 1000)
