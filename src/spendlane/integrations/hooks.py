"""Claude Code hooks: install spendlane into settings.json, and what each hook does.

`install` / `uninstall` merge spendlane's entries into a Claude Code settings file and take
exactly them out again; `gate` answers `PreToolUse` and `UserPromptSubmit` from the budgets,
`session_end` ingests the session's own transcript, `stop_failure` records a rate-limit or
billing failure as an alert. No click here: `cli/hooks.py` is the thin shell.

The hook contract this follows (checked 2026 against the Claude Code hooks reference,
https://code.claude.com/docs/en/hooks and its translations at docs.claude.com/*/docs/claude-code/
hooks, and the StopFailure write-up at https://agentpatterns.ai/tool-engineering/stopfailure-hook/):

- settings.json: `hooks` -> event name -> list of `{"matcher": …, "hooks": [{"type":
  "command", "command": …, "timeout": seconds}]}`. `matcher` applies to tool events
  (`PreToolUse`: `*` matches every tool); events without matchers (`UserPromptSubmit`,
  `SessionEnd`, `StopFailure`) may omit it, which matches everything.
- stdin: JSON with `session_id`, `transcript_path`, `cwd`, `hook_event_name`, plus per event
  (`PreToolUse`: `tool_name`, `tool_input`; `SessionEnd`: `reason`; `StopFailure`:
  `error_type` — rate_limit, billing_error, authentication_failed, server_error, … — with
  `error` and `error_message`; older write-ups put the type in `error`, so both are read).
- output: exit 0 with JSON on stdout. `PreToolUse` denies with `{"hookSpecificOutput":
  {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason":
  …}}`; `UserPromptSubmit` blocks with `{"decision": "block", "reason": …}`; any hook may add
  `{"systemMessage": …}`, a warning shown to the user. Exit 2 would block with stderr as the
  reason; other non-zero exits are non-blocking errors. `StopFailure` output is ignored.
- `SessionEnd` hooks share a 1.5 s budget by default (CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS
  raises it); `statusLine` is `{"type": "command", "command": …}` at the top level.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from spendlane.ingest import IngestReport
    from spendlane.ledger import SqliteLedger
    from spendlane.policy.config import BudgetConfig
    from spendlane.pricing.overrides import PriceOverride

Scope = Literal["user", "project"]

# Our entries, whatever the prefix (`/x/bin/spendlane`, `'/a b/spendlane'`, `python -m
# spendlane`): a command with "spendlane hook …" or "spendlane statusline".
_OURS = re.compile(r"spendlane['\"]?\s+(?:hook\s|statusline\b)")

# (event, matcher or None to omit it, subcommand, timeout in seconds)
HOOKS: tuple[tuple[str, str | None, str, int], ...] = (
    ("PreToolUse", "*", "gate", 10),
    ("UserPromptSubmit", None, "gate", 10),
    ("SessionEnd", None, "session-end", 10),
    ("StopFailure", None, "stop-failure", 10),
)


class HooksError(Exception):
    """A settings file spendlane will not touch (invalid JSON, an unexpected shape)."""


# -- where, and with what command -----------------------------------------------------------


def settings_path(scope: Scope, cwd: Path | str | None = None) -> Path:
    """The settings.json to install into: the user's (the first CLAUDE_CONFIG_DIR entry, else
    ~/.claude) or the project's (`<cwd>/.claude/settings.json`)."""
    if scope == "project":
        return Path(cwd if cwd is not None else Path.cwd()) / ".claude" / "settings.json"
    if scope != "user":
        raise ValueError(f"scope must be 'user' or 'project', not {scope!r}")
    configured = [p.strip() for p in os.environ.get("CLAUDE_CONFIG_DIR", "").split(",")]
    configured = [p for p in configured if p]
    root = Path(configured[0]).expanduser() if configured else Path.home() / ".claude"
    return root / "settings.json"


def default_command_prefix() -> str:
    """How hooks should start spendlane: the running `spendlane` script when it is one, else
    the one on PATH, else this Python with `-m spendlane` (shell-quoted either way)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "spendlane" and argv0.is_file():
        return shlex.quote(str(argv0.resolve()))
    found = shutil.which("spendlane")
    if found:
        return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(sys.executable)} -m spendlane"


def is_ours(command: object) -> bool:
    return isinstance(command, str) and _OURS.search(command) is not None


# -- install / uninstall --------------------------------------------------------------------


@dataclass(slots=True)
class InstallPlan:
    """What install or uninstall did (or, with dry_run, would do) to one settings file."""

    path: Path
    changes: list[str] = field(default_factory=list)  # one line per change, for a person
    notes: list[str] = field(default_factory=list)  # what was left alone, and why
    created: bool = False  # the file did not exist
    backup: Path | None = None  # the copy taken before writing (None: nothing written)
    dry_run: bool = False
    text: str = ""  # the file's new content

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def install(path: Path, *, command_prefix: str | None = None, dry_run: bool = False) -> InstallPlan:
    """Add spendlane's hooks (and its statusLine, when there is none) to a settings file.

    Every other key and hook is kept, in order. Installing again changes nothing; an entry
    of ours with another prefix (spendlane moved) is updated in place.
    """
    prefix = command_prefix or default_command_prefix()
    target, document, style, exists = _read(path)
    plan = InstallPlan(target, created=not exists, dry_run=dry_run)
    before = json.dumps(document)
    hooks = _object(document, "hooks", create=True)
    for event, matcher, sub, timeout in HOOKS:
        entry = {"type": "command", "command": f"{prefix} hook {sub}", "timeout": timeout}
        _ensure_hook(hooks, event, matcher, entry, plan)
    status = document.get("statusLine")
    wanted = {"type": "command", "command": f"{prefix} statusline"}
    if status is None:
        document["statusLine"] = wanted
        plan.changes.append(f"statusLine: {wanted['command']}")
    elif isinstance(status, dict) and is_ours(status.get("command")):
        if status.get("command") != wanted["command"] or status.get("type") != "command":
            status.update(wanted)
            plan.changes.append(f"statusLine: updated to {wanted['command']}")
    else:
        shown = status.get("command") if isinstance(status, dict) else status
        plan.notes.append(f"statusLine kept: you already have one ({shown!r}); to use "
                          f"spendlane's, set its command to `{wanted['command']}`")  # fmt: skip
    if json.dumps(document) == before:
        plan.changes.clear()
    return _finish(plan, document, style, exists)


def uninstall(path: Path) -> InstallPlan:
    """Take out exactly spendlane's entries: hooks whose command runs `spendlane hook …`,
    and the statusLine only when it runs `spendlane statusline`. A matcher group, event list
    or `hooks` object is removed only when taking ours out left it empty."""
    target, document, style, exists = _read(path)
    plan = InstallPlan(target)
    if not exists:
        plan.notes.append("no settings file: nothing to remove")
        return plan
    hooks = document.get("hooks")
    if isinstance(hooks, dict):
        for event in list(hooks):
            groups = hooks[event]
            if not isinstance(groups, list):
                continue
            removed = _remove_ours(groups)
            if removed:
                plan.changes.append(f"{event}: removed {', '.join(removed)}")
                if not groups:
                    del hooks[event]
        if not hooks and plan.changes:
            del document["hooks"]
    status = document.get("statusLine")
    if isinstance(status, dict) and is_ours(status.get("command")):
        del document["statusLine"]
        plan.changes.append(f"statusLine: removed {status.get('command')}")
    elif status is not None:
        plan.notes.append("statusLine kept: it is not spendlane's")
    return _finish(plan, document, style, exists)


@dataclass(frozen=True, slots=True)
class _Style:
    indent: str | int
    newline: bool


def _read(path: Path) -> tuple[Path, dict[str, Any], _Style, bool]:
    """The file's document and formatting; a symlink is followed (its target is written)."""
    target = path.resolve() if path.is_symlink() else path
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return target, {}, _Style(2, True), False
    except OSError as exc:
        raise HooksError(f"{target}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HooksError(f"{target}: not UTF-8 text (byte {exc.start}); not changed") from None
    if not text.strip():
        return target, {}, _Style(2, True), True
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{target}, line {exc.lineno}, column {exc.colno}"
        raise HooksError(f"{where}: invalid JSON: {exc.msg}; not changed") from None
    if not isinstance(document, dict):
        raise HooksError(f"{target}: expected a JSON object at the top; not changed")
    hooks = document.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise HooksError(f"{target}, line {_line_of(text, 'hooks')}: 'hooks' is not an object; "
                         "not changed")  # fmt: skip
    for event, groups in (hooks or {}).items():
        if not isinstance(groups, list):
            raise HooksError(f"{target}, line {_line_of(text, event)}: hooks.{event} is not "
                             "a list; not changed")  # fmt: skip
    match = re.search(r"^([ \t]+)\S", text, re.MULTILINE)
    indent: str | int = 2
    if match:
        whitespace = match.group(1)
        indent = len(whitespace) if set(whitespace) == {" "} else whitespace
    return target, document, _Style(indent, text.endswith("\n")), True


def _line_of(text: str, key: str) -> int:
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _object(document: dict[str, Any], key: str, *, create: bool) -> dict[str, Any]:
    value = document.get(key)
    if value is None and create:
        value = document[key] = {}
    assert isinstance(value, dict)  # _read refused anything else
    return value


def _ensure_hook(
    hooks: dict[str, Any],
    event: str,
    matcher: str | None,
    entry: dict[str, Any],
    plan: InstallPlan,
) -> None:
    """One hook of ours in `event`: the first existing one updated in place, any others
    removed, or a new matcher group appended at the end."""
    groups = hooks.setdefault(event, [])
    found = False
    for group in groups:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(inner, list):
            continue
        for i, hook in enumerate(inner):
            if not (isinstance(hook, dict) and is_ours(hook.get("command"))):
                continue
            if not found:
                found = True
                if hook != entry:
                    inner[i] = {**hook, **entry}
                    if inner[i] != hook:
                        plan.changes.append(f"{event}: updated to {entry['command']}")
    if found:
        # Duplicates of ours (two installs by hand, say) go; the first stays where it is.
        kept_first = False
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list):
                continue
            for hook in list(inner):
                if isinstance(hook, dict) and is_ours(hook.get("command")):
                    if kept_first:
                        inner.remove(hook)
                        plan.changes.append(f"{event}: removed a duplicate {hook['command']}")
                    kept_first = True
        groups[:] = [g for g in groups if not (isinstance(g, dict) and g.get("hooks") == [])]
        return
    added: dict[str, Any] = {"matcher": matcher} if matcher is not None else {}
    added["hooks"] = [entry]
    groups.append(added)
    plan.changes.append(f"{event}: added {entry['command']}")


def _remove_ours(groups: list[Any]) -> list[str]:
    """Take our hooks out of an event's matcher groups; a group left empty by that goes."""
    removed: list[str] = []
    for group in list(groups):
        inner = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(inner, list):
            continue
        ours = [h for h in inner if isinstance(h, dict) and is_ours(h.get("command"))]
        for hook in ours:
            inner.remove(hook)
            removed.append(str(hook["command"]))
        if ours and not inner:
            groups.remove(group)
    return removed


def _finish(
    plan: InstallPlan, document: dict[str, Any], style: _Style, exists: bool
) -> InstallPlan:
    plan.text = json.dumps(document, indent=style.indent, ensure_ascii=False)
    plan.text += "\n" if style.newline else ""
    if not plan.changes or plan.dry_run:
        return plan
    path = plan.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if exists:
        plan.backup = _backup(path)
    _write_atomically(path, plan.text)
    return plan


def _backup(path: Path) -> Path:
    """A copy of the file as it was, next to it: `settings.json.spendlane-backup-<UTC time>`."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}.spendlane-backup-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.spendlane-backup-{stamp}-{n}")
    shutil.copy2(path, backup)
    return backup


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, flush to disk, rename over it: a reader (Claude Code) never sees
    half a file, and a crash leaves the old one. The file's permissions are kept."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # a new file keeps the default mode
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# -- the hooks themselves -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateResult:
    """What the hook process should do: exit with `exit_code`, print `stdout` and `stderr`."""

    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""


ALLOW = GateResult()


class HookInputError(ValueError):
    """Stdin was not the JSON object Claude Code sends."""


def read_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise HookInputError(f"hook input is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise HookInputError("hook input is not a JSON object")
    return payload


def call_of(payload: dict[str, Any]) -> Any:
    """The policy `Call` a Claude Code hook is about: provider anthropic, source claude_code,
    the session's working directory as project (as ingested transcripts record it), and the
    model when the payload names one."""
    from spendlane.policy.service import make_call

    def text(key: str) -> str | None:
        value = payload.get(key)
        return value if isinstance(value, str) and value else None

    model = payload.get("model")
    if isinstance(model, dict):  # the statusline's shape: {"id": …, "display_name": …}
        model = model.get("id")
    return make_call(provider="anthropic", source="claude_code", project=text("cwd"),
                     model=model if isinstance(model, str) and model else None)  # fmt: skip


def gate(payload: dict[str, Any], ledger: SqliteLedger, config: BudgetConfig) -> GateResult:
    """The budgets' answer to a `PreToolUse` or `UserPromptSubmit` hook.

    BLOCK denies the tool call (PreToolUse) or blocks the prompt (UserPromptSubmit) with the
    notice as the reason; THROTTLE lets it through with the notice as a `systemMessage`; WARN
    says so on prompts only (a tool call would repeat it many times a turn); ALLOW is silent.
    Reads the ledger as it is (no log ingest: a gate runs on every tool call).
    """
    from spendlane.policy.evaluate import Action
    from spendlane.policy.service import check, now_ms, status_after

    event = payload.get("hook_event_name")
    at = now_ms()
    result = check(ledger, config, call_of(payload), 0, at)
    if config.budgets:
        status_after(ledger, config, result.states, at)
    action = result.decision.action
    text = result.notice or f"spendlane: {action.word}"
    message = f"spendlane: {text}"
    if action is Action.BLOCK:
        if event == "PreToolUse":
            return _json({"hookSpecificOutput": {
                "hookEventName": "PreToolUse", "permissionDecision": "deny",
                "permissionDecisionReason": text,
            }, "systemMessage": message})  # fmt: skip
        if event == "UserPromptSubmit":
            return _json({"decision": "block", "reason": text, "systemMessage": message})
        return _json({"systemMessage": message})  # an event we do not decide: say it only
    if action is Action.THROTTLE or (action is Action.WARN and event == "UserPromptSubmit"):
        return _json({"systemMessage": message})
    return ALLOW


def run_gate(text: str, *, db: Path | None = None, config: Path | None = None) -> GateResult:
    """`spendlane hook gate`: stdin to answer, never failing the session on spendlane's own
    account — bad input, a bad budget file or an unreadable ledger allow the call and say why
    on stderr (exit 0)."""
    try:
        payload = read_payload(text)
    except HookInputError as exc:
        return GateResult(stderr=f"spendlane: {exc}; allowing\n")
    try:
        from spendlane.ledger import SqliteLedger
        from spendlane.paths import default_ledger_path
        from spendlane.policy.service import load_budgets

        budgets = load_budgets(config)
        with SqliteLedger(db or default_ledger_path()) as ledger:
            return gate(payload, ledger, budgets)
    except Exception as exc:  # never break the user's session because of spendlane
        return GateResult(stderr=f"spendlane: gate skipped ({exc}); allowing\n")


def session_end(
    payload: dict[str, Any],
    ledger: SqliteLedger,
    *,
    overrides: list[PriceOverride] | None = None,
) -> IngestReport | None:
    """Ingest the ended session's transcript only (`transcript_path`), from where the ledger
    left off. None when the payload names no transcript file.

    One file commits with its cursor in one transaction: if Claude Code stops the hook at its
    time budget, the ledger is unchanged and the next ingest reads the same bytes."""
    from spendlane.ingest import ingest_files
    from spendlane.sources.locations import CLAUDE_CODE

    transcript = payload.get("transcript_path")
    if not isinstance(transcript, str) or not transcript.endswith(".jsonl"):
        return None
    path = Path(transcript).expanduser()
    if not path.is_file():
        return None
    return ingest_files(ledger, CLAUDE_CODE, [path], overrides=overrides)


LIMIT_ERRORS = {"rate_limit": "rate limit", "billing_error": "billing error"}
HOUR_MS = 3_600_000


def stop_failure(
    payload: dict[str, Any], ledger: SqliteLedger, at_ms: int | None = None
) -> int | None:
    """A turn that ended on a rate limit or billing error becomes a `lane` alert (subject
    `anthropic`, level the error type), once per error type and hour, so it shows in
    `spendlane alerts list` and goes to the configured channels. Other failures (server
    errors, bad requests) are not about spend: ignored. The new alert's id, else None."""
    import time

    from spendlane.alerts.state import AlertKind, raise_alert

    types = [payload.get("error_type"), payload.get("error")]
    kind = next((t for t in types if isinstance(t, str) and t in LIMIT_ERRORS), None)
    if kind is None:
        return None
    at = at_ms if at_ms is not None else int(time.time() * 1000)
    what = LIMIT_ERRORS[kind]
    detail = payload.get("error_message")
    session = payload.get("session_id")
    where = payload.get("cwd")
    title = f"spendlane: Claude Code stopped on a {what}"
    lines = [f"A Claude Code turn ended with {kind}"
             + (f": {str(detail)[:300]}" if detail else ".")]  # fmt: skip
    if where:
        lines.append(f"Project: {where}")
    if session:
        lines.append(f"Session: {session}")
    lines.append("Work can move to another lane until the limit resets (spendlane lanes).")
    return raise_alert(ledger, AlertKind.LANE, "anthropic", kind, at // HOUR_MS * HOUR_MS,
                       title, "\n".join(lines), at)  # fmt: skip


def _json(value: dict[str, Any]) -> GateResult:
    return GateResult(stdout=json.dumps(value) + "\n")
