"""Claude Code transcripts: `<root>/projects/<encoded-cwd>/**/*.jsonl`.

Only `assistant` lines carry billable usage. One API response is written on several lines with
the same message id and request id, earlier copies with fewer output tokens: the key is
message id + request id, and the ledger keeps the copy with the largest total (a main-thread
copy over a sidechain one). `<synthetic>` lines are Claude Code's own messages, not model
calls; a usage-limit one tells when a subscription window resets.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import msgspec

from spendlane.events import (
    MAX_COST_NANO,
    MAX_TOKENS,
    AgentType,
    CostBasis,
    LimitNotice,
    UsageEvent,
)
from spendlane.money import usd_to_nano
from spendlane.sources.jsonl import Prefilter, RecordReader, without_lone_surrogates
from spendlane.sources.locations import CLAUDE_CODE as SOURCE
from spendlane.sources.parsed import Parsed, iso_to_ms
from spendlane.sources.reading import Chunk


# The decoded shapes hold no cycles: gc=False keeps half a million of them out of the cycle
# collector's way on a first import.
class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class _ServerToolUse(msgspec.Struct, gc=False):
    web_search_requests: int | None = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: _CacheCreation | None = None
    server_tool_use: _ServerToolUse | None = None
    speed: str | None = None


class _Block(msgspec.Struct, gc=False):
    name: str | None = None  # a tool use's tool; text, thinking and tool results have none


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    # Only the tool names: whether a response used a Skill or started a subagent is decided
    # by them, for less than a search of the line costs. What a rare line needs of the
    # content itself (a prompt, a result, a tool's input) is read again from the line.
    content: list[_Block] | str | None = None


class _LooseMessage(_Message, gc=False):
    content: msgspec.Raw = msgspec.Raw(b"null")  # type: ignore[assignment]


class _Line(msgspec.Struct, gc=False):
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
    toolUseResult: msgspec.Raw = msgspec.Raw(b"null")


class _LooseLine(_Line, gc=False):
    """A line whose content has another shape than Claude Code writes: read all the same."""

    message: _LooseMessage | None = None


class _RawMessage(msgspec.Struct, gc=False):
    content: msgspec.Raw = msgspec.Raw(b"null")


class _RawLine(msgspec.Struct, gc=False):
    message: _RawMessage | None = None


_RAW_LINE = msgspec.json.Decoder(_RawLine)


def _raw_content(data: bytes, start: int, end: int) -> bytes:
    """The JSON text of the message content of the line (or object) at data[start:end]."""
    line = bytes(data[start:end])
    for text in (line, without_lone_surrogates(line)):
        if text is None:
            continue
        try:
            message = _RAW_LINE.decode(text).message
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            continue
        return bytes(message.content) if message is not None else b""
    return b""


class _ToolUse(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, object] | None = None


_COMMAND = re.compile(rb"<command-name>\s*(/?[^<\s]+)\s*</command-name>")
_TOOL_USES = msgspec.json.Decoder(list[_ToolUse])
_SPAWNING_TOOLS = ("Task", "Agent")  # the tool that starts a subagent, by Claude Code version
_WATCHED_TOOLS = frozenset(("Skill", *_SPAWNING_TOOLS))  # tool uses `_read_tool_uses` reads


class _ToolResult(msgspec.Struct):
    type: str | None = None
    tool_use_id: str | None = None
    content: msgspec.Raw = msgspec.Raw(b"null")


class _Meta(msgspec.Struct):
    agentType: str | None = None


_RESULTS = msgspec.json.Decoder(list[_ToolResult])
_META = msgspec.json.Decoder(_Meta)
_AGENT_IN_TEXT = re.compile(rb"agentId: ([A-Za-z0-9_-]+)")
_AGENT_IN_RESULT = re.compile(rb'"agentId"\s*:\s*"([A-Za-z0-9_-]+)"')


class _TextBlock(msgspec.Struct):
    type: str | None = None
    text: str | None = None


SYNTHETIC = "<synthetic>"
_LIMIT_PIPE = re.compile(r"usage limit reached\|(\d{9,11})")
_LIMIT_RESETS = re.compile(
    r"resets\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*(?:\(([^)]+)\))?", re.IGNORECASE
)


def project_dir_of(path: str) -> str | None:
    """The encoded-cwd folder a transcript lives in (`projects/<this>/...`).

    String work, not pathlib: this runs for every file of a first import (thousands), where
    two Path objects cost a third of reading a small file.
    """
    parts = [part for part in _SEPARATORS.split(path) if part]
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "projects" and i + 1 < len(parts) - 1:
            return parts[i + 1]
    return None


_SEPARATORS = re.compile(r"[\\/]" if os.sep == "\\" else "/")


def _lines_wanted(state: _State, main_thread: bool) -> Prefilter:
    """Which lines besides assistant lines (those holding `"assistant"`, which carry usage
    and are always decoded) to decode, given what the parse holds open (`state`, read as it
    changes).

    A user prompt matters only when it can change the skill in force: it ends the turn of
    one, or names one (a slash command). A tool result matters only in a main-thread file with
    a Task waiting for it, and only when it names an agent. Every other line is skipped
    undecoded, so most prompts and every tool result cost a search, not a decode.
    """

    def wanted(data: bytes, start: int, end: int) -> bool:
        find = data.find
        if find(b'"user"', start, end) < 0:
            return False
        if find(b'"tool_result"', start, end) >= 0:
            return main_thread and bool(state.spawns) and find(b"agentId", start, end) >= 0
        return state.skill is not None or find(b"<command-name>", start, end) >= 0

    return wanted


class _State(msgspec.Struct, omit_defaults=True):
    """What the next chunk of a file needs: the skill in force, and Task tool uses whose
    result (naming the subagent they started) has not been read yet."""

    skill: str | None = None
    spawns: dict[str, str] = {}  # Task tool use id -> subagent type


_STATE = msgspec.json.Decoder(_State)
_MAX_SPAWNS = 200  # a Task whose result never came (a crash) is forgotten eventually


def _load_state(text: str | None) -> _State:
    if not text:
        return _State()
    if text.startswith("{"):
        try:
            return _STATE.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass
    return _State(skill=text)  # the state of earlier versions: the skill alone


def _dump_state(state: _State) -> str:
    if not state.spawns:
        return state.skill or ""
    if len(state.spawns) > _MAX_SPAWNS:
        state.spawns = dict(list(state.spawns.items())[-_MAX_SPAWNS:])
    return msgspec.json.encode(state).decode()


def parse(chunk: Chunk, path: str) -> Parsed:
    """Turn a chunk of a transcript into events, usage-limit notices and subagent types.

    Skills: a slash command (`<command-name>/review</command-name>` in the prompt) or a
    `Skill` tool use attributes the calls that follow in that turn to the skill. Subagent
    types: a subagent's `.meta.json` sidecar says it (authoritative); else the parent's Task
    tool use (`subagent_type`) is linked to the agent id its result names. What one chunk
    leaves open (the skill in force, Tasks still running) is carried in the parse state.
    """
    name = os.path.basename(path)
    file_agent = os.path.splitext(name)[0][6:] if name.startswith("agent-") else None
    notices: list[LimitNotice] = []
    agent_types: list[AgentType] = []
    if file_agent:
        meta = _meta_agent_type(path, file_agent)
        if meta is not None:
            agent_types.append(meta)
    project_dir = project_dir_of(path)
    state = _load_state(chunk.cursor.state)
    wanted = _lines_wanted(state, main_thread=file_agent is None)
    reader = RecordReader(_Line, wanted, _LooseLine, take=b'"assistant"')
    best: dict[str, _Copy] = {}  # key -> the best copy so far; events are made of these only
    duplicates = 0
    data = chunk.data
    for line, start, end in reader.records(chunk):
        message = line.message
        if line.type == "user":
            content = _raw_content(data, start, end) if message is not None else b""
            if b'"tool_result"' in content:
                if state.spawns and not line.agentId:
                    agent_types.extend(_started_agents(content, line.toolUseResult, state))
            elif not line.isMeta:  # a new prompt: a new turn (the command's expansion is meta)
                found = _COMMAND.search(content)
                state.skill = found.group(1).decode("utf-8", "replace") if found else None
            continue
        if line.type != "assistant" or message is None:
            continue
        ts_ms = iso_to_ms(line.timestamp)
        if ts_ms is None:
            reader.malformed += 1
            continue
        model = message.model
        if model == SYNTHETIC or line.isApiErrorMessage:
            notice = _limit_notice(line, ts_ms, _raw_content(data, start, end))
            if notice is not None:
                notices.append(notice)
            if model == SYNTHETIC:
                continue
        usage = message.usage
        if usage is not None and model is not None:
            copy = _copy(line, usage, ts_ms, state.skill)
            if copy is None:
                reader.malformed += 1  # counts no real call has: a corrupt line
            else:
                if message.id:
                    key = (
                        f"cc:{message.id}:{line.requestId}"
                        if line.requestId
                        else f"cc:{message.id}"
                    )
                elif line.uuid:
                    key = f"cc:uuid:{line.uuid}"
                else:
                    key = f"cc:file:{path}:{chunk.start + start}"
                held = best.get(key)
                if held is None:
                    best[key] = copy
                else:
                    duplicates += 1
                    if copy[:2] > held[:2]:  # (main thread, total): `events.better_copy`
                        best[key] = copy
        blocks = message.content
        if type(blocks) is list:
            for block in blocks:
                if block.name is not None and block.name in _WATCHED_TOOLS:
                    _read_tool_uses(_raw_content(data, start, end), state)
                    break
        elif isinstance(blocks, msgspec.Raw):  # a loose line: search its content instead
            raw = bytes(blocks)
            if b'"Skill"' in raw or b'"subagent_type"' in raw:
                _read_tool_uses(raw, state)
    events = [_event(key, copy, project_dir, file_agent) for key, copy in best.items()]
    return Parsed(
        events=events, notices=notices, agent_types=agent_types, malformed=reader.malformed,
        duplicates=duplicates, resume_at=reader.resume_at, state=_dump_state(state),
        plausible=True,  # `_copy` and `iso_to_ms` keep every bound `events.implausible` puts
    )  # fmt: skip


# One streamed copy of a call: (main thread, token total, its counts, its reported cost, its
# line, when, the skill in force). Streamed responses are written several times; only the best
# copy of each key (`events.better_copy`: main thread, then the larger total) becomes an event.
_Copy = tuple[bool, int, tuple[int, int, int, int, int, int], int | None, _Line, int, str | None]


def _copy(line: _Line, usage: _Usage, ts_ms: int, skill: str | None) -> _Copy | None:
    """A copy's rank and counts, or None when the counts cannot be a real call's (the bounds
    `events.implausible` puts on the event this copy would make), so that a corrupt copy is
    counted as malformed and never outranks a real one."""
    creation = usage.cache_creation_input_tokens or 0
    detail = usage.cache_creation
    one_hour = 0 if detail is None else (detail.ephemeral_1h_input_tokens or 0)
    if one_hour > creation:
        one_hour = creation
    tool = usage.server_tool_use
    fresh = usage.input_tokens or 0
    output = usage.output_tokens or 0
    read = usage.cache_read_input_tokens or 0
    searches = 0 if tool is None else (tool.web_search_requests or 0)
    m = MAX_TOKENS  # chained comparisons: a loop or min()/max() cost more than they read
    if not (
        0 <= fresh <= m and 0 <= output <= m and 0 <= creation - one_hour <= m
        and 0 <= one_hour <= m and 0 <= read <= m and 0 <= searches <= m
    ):  # fmt: skip
        return None
    cost = line.costUSD
    reported = None if cost is None else usd_to_nano(cost)
    if reported is not None and not -MAX_COST_NANO <= reported <= MAX_COST_NANO:
        return None
    counts = (fresh, output, creation - one_hour, one_hour, read, searches)
    return (not line.isSidechain, fresh + output + creation + read, counts, reported, line,
            ts_ms, skill)  # fmt: skip


def _event(key: str, copy: _Copy, project_dir: str | None, file_agent: str | None) -> UsageEvent:
    _, _, counts, reported, line, ts_ms, skill = copy
    message = line.message
    assert message is not None and message.model is not None and message.usage is not None
    model = message.model
    input_tokens, output_tokens, write_5m, write_1h, cache_read, web_searches = counts
    # By position, in UsageEvent's field order (keywords cost more than the rest of this
    # function; test_claude_code checks every field).
    return UsageEvent(
        key, ts_ms, SOURCE, "anthropic" if model.startswith("claude") else "unknown", model,
        input_tokens, output_tokens, write_5m, write_1h, cache_read,
        0,  # reasoning_tokens: Claude Code does not report them apart
        web_searches, message.usage.speed,
        False,  # model_estimated
        reported,
        None,  # cost_nano: priced later
        CostBasis.UNPRICED,  # cost_basis, until priced
        line.sessionId, line.cwd or project_dir, project_dir, line.agentId or file_agent,
        bool(line.isSidechain), line.gitBranch, line.version,
        None, None, None, None,  # machine, agent, task_id, task_type: not in transcripts
        skill,
    )  # fmt: skip


def _read_tool_uses(raw: bytes, state: _State) -> None:
    """A `Skill` tool use sets the skill for what follows in the turn; a Task (or, in newer
    builds, Agent) tool use with a `subagent_type` waits for its result to name the agent."""
    try:
        blocks = _TOOL_USES.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return
    for block in blocks:
        if block.type != "tool_use" or not block.input:
            continue
        if block.name == "Skill":
            name = block.input.get("skill") or block.input.get("command")
            if isinstance(name, str) and name:
                state.skill = name
        elif block.name in _SPAWNING_TOOLS and block.id:
            kind = block.input.get("subagent_type")
            if isinstance(kind, str) and kind:
                state.spawns[block.id] = kind


def _started_agents(content: bytes, tool_result: msgspec.Raw, state: _State) -> list[AgentType]:
    """The subagents that Task results in this user line name, typed by their Task tool use.

    The agent id is in the result's text ("agentId: a1b2c3 (for resuming …)"); where the text
    does not say it, the line's `toolUseResult.agentId` does (one result per line).
    """
    try:
        blocks = _RESULTS.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    found: list[AgentType] = []
    for block in blocks:
        if block.type != "tool_result" or not block.tool_use_id:
            continue
        kind = state.spawns.pop(block.tool_use_id, None)
        if kind is None:
            continue
        named = _AGENT_IN_TEXT.search(bytes(block.content))
        if named is None and len(blocks) == 1:
            named = _AGENT_IN_RESULT.search(bytes(tool_result))
        if named is not None:
            found.append(AgentType(agent_id=named.group(1).decode(), agent_type=kind))
    return found


def _meta_agent_type(path: str, agent_id: str) -> AgentType | None:
    """The type in a subagent's sidecar, `agent-<id>.meta.json` beside its transcript."""
    try:
        raw = Path(path[: -len(".jsonl")] + ".meta.json").read_bytes()
        meta = _META.decode(raw)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not meta.agentType:
        return None
    return AgentType(agent_id=agent_id, agent_type=meta.agentType, authoritative=True)


def _limit_notice(line: _Line, ts_ms: int, content: bytes) -> LimitNotice | None:
    text = _message_text(content)
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


def _message_text(content: bytes) -> str | None:
    if not content or content == b"null":
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
