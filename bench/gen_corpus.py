#!/usr/bin/env python3
"""Write a realistic corpus of Claude Code and Codex CLI logs, and the totals a reader must find.

Benchmarks on toy logs lie: real transcripts have streamed duplicate lines, resumed sessions that
copy other sessions, subagent files, Task results that carry a usage copy, `<synthetic>` limit
messages, third-party models, and Codex rollouts that repeat `token_count` events. This script
writes all of those, in the sizes and file counts of a heavy user's six months, fast enough to
make a gigabyte in under a minute, and records in `manifest.json` the exact deduplicated totals
(so a reader's correctness can be checked, not just its speed).

    python bench/gen_corpus.py OUT_DIR --size-mb 1000 [--seed 1] [--codex-share 0.2]
    python bench/gen_corpus.py OUT_DIR --verify      # recount an existing corpus from its files

Only the standard library is used. Output is identical for the same arguments whatever the number
of worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import string
import sys
import time
from collections.abc import Callable, Iterable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------------------------
# Models, versions, projects

SONNET = "claude-sonnet-4-5-20250929"
OPUS41 = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"
OPUS46 = "claude-opus-4-6"
QWEN = "qwen3.5-plus"
SYNTHETIC = "<synthetic>"
GPT5 = "gpt-5-codex"
GPT51MAX = "gpt-5.1-codex-max"
GPT52 = "gpt-5.2-codex"

D = dt.date
DAY_MS = 86_400_000
HAIKU_FROM_MS = int(dt.datetime(2025, 10, 15, tzinfo=dt.UTC).timestamp() * 1000)
TOKEN_KEYS = ("input", "output", "cache_creation", "cache_read")
CODEX_KEYS = ("input", "cached_input", "output", "reasoning_output", "total")


def claude_models(day: dt.date) -> tuple[list[str], list[float]]:
    """Main-thread model mix on a day: only models already released, newer ones taking over."""
    if day >= D(2026, 2, 5):
        return [OPUS46, SONNET, HAIKU, OPUS41], [0.45, 0.35, 0.15, 0.05]
    if day >= D(2025, 10, 15):
        return [SONNET, OPUS41, HAIKU], [0.65, 0.2, 0.15]
    if day >= D(2025, 9, 29):
        return [SONNET, OPUS41], [0.75, 0.25]
    return [OPUS41], [1.0]


def codex_models(day: dt.date) -> tuple[list[str], list[float]]:
    """Codex model mix on a day (gpt-5.1-codex-max from 19 Nov, gpt-5.2-codex from 18 Dec)."""
    if day >= D(2025, 12, 18):
        return [GPT52, GPT51MAX, GPT5], [0.6, 0.3, 0.1]
    if day >= D(2025, 11, 19):
        return [GPT51MAX, GPT5], [0.6, 0.4]
    return [GPT5], [1.0]


def claude_version(day: dt.date) -> str:
    """Claude Code version in use on a day (1.0.x, 2.0.x from 29 Sep, 2.1.x from 7 Jan)."""
    if day < D(2025, 9, 29):
        return f"1.0.{min(128, 100 + (day - D(2025, 8, 1)).days // 2)}"
    if day < D(2026, 1, 7):
        return f"2.0.{min(76, (day - D(2025, 9, 29)).days * 76 // 100)}"
    return f"2.1.{min(60, (day - D(2026, 1, 7)).days)}"


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def codex_version(day: dt.date) -> str:
    """Codex CLI version in use on a day (about one minor release every three days)."""
    return f"0.{36 + max(0, (day - D(2025, 9, 1)).days) // 3}.0"


PROJECT_NAMES = [
    "webshop",
    "infra",
    "ml-pipeline",
    "billing-api",
    "mobile-app",
    "docs-site",
    "data-lake",
    "auth-service",
    "search",
    "analytics",
    "payments",
    "scheduler",
    "crm",
    "etl-jobs",
    "design-system",
    "cli-tools",
    "chat-bot",
    "video-transcode",
    "geo-tiles",
    "feature-flags",
    "inventory",
    "notifications",
    "recommendation",
    "admin-portal",
    "api-gateway",
    "blog",
    "compiler",
    "game-engine",
    "k8s-operators",
    "llm-evals",
    "pdf-render",
    "queue-worker",
    "rust-parser",
    "sdk-python",
    "sdk-typescript",
    "terraform",
    "website",
    "wiki",
    "dotfiles",
    "scratch",
]


def project_cwd(i: int, name: str) -> str:
    """Working directories in the shapes users have: Linux, macOS, dots, spaces, Windows."""
    if i % 13 == 7:
        return f"C:\\Users\\alex\\source\\repos\\{name.replace('-', '_').title()}"
    if i % 11 == 3:
        return f"/Users/alex/Client Projects/{name}.v2"
    if i % 7 == 5:
        return f"/Users/alex/work/acme_corp/{name.replace('-', '_')}"
    if i % 3 == 0:
        return f"/Users/alex/Projects/{name}"
    return f"/home/alex/code/{name}"


def encode_cwd(cwd: str) -> str:
    """Claude Code's project folder name: every character outside [A-Za-z0-9-] becomes '-'."""
    return re.sub(r"[^A-Za-z0-9-]", "-", cwd)


# ---------------------------------------------------------------------------------------------
# Text pools (built once per process from a fixed seed: content never depends on --seed)


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "the a to of and in for is on that with this we it be as function file test error value "
    "config module request response handler user data cache build type return import update "
    "check should now will need let me first then also instead because fix add remove refactor "
    "call parse load save query index table column schema migration route server client token "
    "session state event queue worker retry timeout async await promise callback component prop "
    "render hook effect store reducer action payload header body status code log debug trace "
    "metric span context logger path directory package dependency version lint format commit "
    "branch merge diff patch line offset limit page cursor batch stream buffer chunk encode "
    "decode json yaml toml env variable secret key field struct class method interface trait "
    "generic closure iterator list map set dict tuple string int float bool null none empty "
    "missing invalid failing passing flaky slow fast memory cpu disk network socket port host"
)
IDENTS = _words(
    "user_id items result payload cfg ctx req resp data rows df conn db cursor session token "
    "handler client cache key value idx count total offset limit page path name opts args"
)
FUNCS = _words(
    "load_config parse_args fetch_rows build_index render_page validate handle_request "
    "get_user save_order compute_total retry_with_backoff open_session close serialize "
    "deserialize normalize_path read_chunk write_batch emit_metric"
)
EXTS = ["py", "ts", "tsx", "rs", "go", "md", "json", "yaml", "sql", "sh"]
DIRS = ["src", "src/api", "src/core", "lib", "tests", "app/components", "pkg/server", "scripts"]


def _build_pools() -> tuple[list[str], list[str], list[str], list[str]]:
    """Sentences, code lines, file names and base64 chunks, varied enough to look real."""
    r = random.Random(20250929)
    prose = []
    for _ in range(3000):
        n = r.randint(5, 24)
        words = r.choices(WORDS, k=n)
        if r.random() < 0.25:
            words[r.randrange(n)] = f"`{r.choice(FUNCS)}()`"
        if r.random() < 0.05:
            words[r.randrange(n)] = r.choice(["→", "✓", "café", "naïve", "—", "“quoted”"])
        s = " ".join(words)
        prose.append(s[0].upper() + s[1:] + r.choice([". ", ". ", ". ", ".\n\n", ":\n- ", "? "]))
    code = []
    for _ in range(3000):
        ind = "    " * r.randint(0, 3)
        k = r.random()
        if k < 0.3:
            a, f, b, w = r.choice(IDENTS), r.choice(FUNCS), r.choice(IDENTS), r.choice(WORDS)
            line = f'{ind}{a} = {f}({b}, "{w}")'
        elif k < 0.45:
            line = f"{ind}if {r.choice(IDENTS)} is None:"
        elif k < 0.6:
            line = f"{ind}return {r.choice(IDENTS)}[{r.randint(0, 9)}]"
        elif k < 0.7:
            line = f"{ind}# {' '.join(r.choices(WORDS, k=r.randint(3, 10)))}"
        elif k < 0.8:
            line = f"{ind}for {r.choice(IDENTS)} in {r.choice(IDENTS)}:"
        elif k < 0.9:
            line = f'{ind}raise ValueError(f"bad {r.choice(WORDS)}: {{{r.choice(IDENTS)}!r}}")'
        else:
            line = f"{ind}def {r.choice(FUNCS)}(self, {r.choice(IDENTS)}: str) -> dict:"
        code.append(line + "\n")
    files = [
        f"{r.choice(DIRS)}/{r.choice(FUNCS)}{r.choice(('', '_test', '_utils', 's'))}"
        f".{r.choice(EXTS)}"
        for _ in range(400)
    ]
    alphabet = string.ascii_letters + string.digits + "+/"
    b64 = ["".join(r.choices(alphabet, k=64)) for _ in range(500)]
    return prose, code, files, b64


PROSE, CODE, FILES, B64 = _build_pools()
# Long texts are slices of these (cheap: no per-sentence random picks for a 20 KB tool output).
PROSE_TEXT = "".join(random.Random(1).sample(PROSE, len(PROSE)) * 2)
CODE_TEXT = "".join(random.Random(2).sample(CODE, len(CODE)) * 2)
B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _slice(pool: str, r: random.Random, chars: int, sep: str) -> str:
    chars = min(chars, len(pool) // 2)
    i = pool.find(sep, r.randrange(len(pool) - chars - 200)) + len(sep)
    j = pool.find(sep, i + chars)
    return pool[i : j + len(sep)] if j > 0 else pool[i : i + chars]


def prose(r: random.Random, chars: int) -> str:
    """About `chars` characters of assistant-like prose."""
    if chars < 120:
        return "".join(r.choices(PROSE, k=chars // 75 + 1))
    return _slice(PROSE_TEXT, r, chars, ". ")


def code(r: random.Random, chars: int) -> str:
    """About `chars` characters of source code lines."""
    return _slice(CODE_TEXT, r, chars, "\n")


def markdown(r: random.Random, chars: int) -> str:
    """An assistant answer: prose with a fenced code block now and then."""
    if chars < 400 or r.random() < 0.5:
        return prose(r, chars)
    third = chars // 3
    return f"{prose(r, third)}\n\n```python\n{code(r, third)}```\n\n{prose(r, third)}"


def lognorm(r: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    """A heavy-tailed size, clamped: most values near the median, a few very large."""
    return int(min(hi, max(lo, median * math.exp(r.gauss(0.0, sigma)))))


def uuid4(r: random.Random) -> str:
    """A version-4 UUID from the seeded generator (uuid.uuid4 would break determinism)."""
    h = f"{r.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[r.getrandbits(2)]}{h[17:20]}-{h[20:]}"


def uuid7(r: random.Random, ms: int) -> str:
    """A time-ordered UUIDv7 like Codex session ids (0199… in late 2025)."""
    h = f"{ms:012x}{r.getrandbits(80):020x}"
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{'89ab'[r.getrandbits(2)]}{h[17:20]}-{h[20:32]}"


def b62(r: random.Random, n: int) -> str:
    return "".join(r.choices(B62, k=n))


def iso(ms: int) -> str:
    """The agents' timestamp format: UTC, milliseconds, 'Z'."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def date_of(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC).date()


def day_of(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def dumps(obj: Any) -> str:
    """Compact JSON with raw UTF-8, as both agents write it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


# ---------------------------------------------------------------------------------------------
# Accounting


class Tally:
    """Token sums keyed by (model, day), plus per-kind line counts; merged across workers."""

    def __init__(self) -> None:
        self.truth: dict[tuple[str, str], list[int]] = {}
        self.first: dict[str, list[int]] = {}
        self.all_lines: dict[str, list[int]] = {}
        self.lines: dict[str, int] = {}
        self.stats: dict[str, int] = {}
        self.naive = [0, 0, 0, 0, 0]  # Codex: sum of every last_token_usage, repeats included

    def bump(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    @staticmethod
    def _add(table: dict[Any, list[int]], key: Any, values: Iterable[int]) -> None:
        row = table.get(key)
        vals = list(values)
        if row is None:
            table[key] = [*vals, 1]
        else:
            for i, v in enumerate(vals):
                row[i] += v
            row[-1] += 1

    def merge(self, other: Tally) -> None:
        for mine, theirs in (
            (self.truth, other.truth),
            (self.first, other.first),
            (self.all_lines, other.all_lines),
        ):
            for k, v in theirs.items():
                row = mine.setdefault(k, [0] * len(v))
                for i, x in enumerate(v):
                    row[i] += x
        self.naive = [a + b for a, b in zip(self.naive, other.naive, strict=True)]
        for k, n in other.lines.items():
            self.lines[k] = self.lines.get(k, 0) + n
        for k, n in other.stats.items():
            self.stats[k] = self.stats.get(k, 0) + n


class FileOut:
    """One output file's lines, counted as they are added."""

    def __init__(self, path: str, tally: Tally) -> None:
        self.path = path
        self.parts: list[str] = []
        self.size = 0
        self.tally = tally
        self.last_ms = 0
        self.kinds: dict[str, int] = {}
        self.usage_lines: dict[str, list[int]] = {}

    def add(self, line: str, kind: str, ms: int) -> None:
        self.parts.append(line)
        self.size += len(line)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.last_ms = ms

    def absorb(self, other: FileOut, old: str, new: str) -> None:
        """Append a copy of another file's lines with one string replaced (a resumed session)."""
        for line in other.parts:
            self.parts.append(line.replace(old, new))
            self.size += len(line)
        for k, n in other.kinds.items():
            self.kinds[k] = self.kinds.get(k, 0) + n
        for m, row in other.usage_lines.items():
            mine = self.usage_lines.setdefault(m, [0] * len(row))
            for i, v in enumerate(row):
                mine[i] += v
        self.last_ms = other.last_ms

    def write(self) -> int:
        """Write the file, dated like the agent left it; return its size in bytes."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        data = "".join(self.parts).encode("utf-8")
        with open(self.path, "wb") as f:
            f.write(data)
        os.utime(self.path, (self.last_ms / 1000, self.last_ms / 1000))
        return len(data)


# ---------------------------------------------------------------------------------------------
# Claude Code sessions


class ClaudeConv:
    """State of one Claude Code transcript being written (main thread or a subagent)."""

    def __init__(
        self,
        r: random.Random,
        out: FileOut,
        spec: dict[str, Any],
        session_id: str,
        t_ms: int,
        model: str,
        agent_id: str | None = None,
    ) -> None:
        self.r = r
        self.out = out
        self.spec = spec
        self.tally = out.tally
        self.t = t_ms
        self.model = model
        self.agent_id = agent_id
        self.side = agent_id is not None
        self.base: dict[str, Any] = {
            "parentUuid": None,
            "isSidechain": self.side,
            "userType": "external",
            "cwd": spec["cwd"],
            "sessionId": session_id,
            "version": spec["version"],
            "gitBranch": spec["branch"],
        }
        if agent_id is not None:
            self.base["agentId"] = agent_id
        self.parent: str | None = None
        self.prompt = 0  # tokens in the last request's prompt
        self.pending = r.randint(9_000, 24_000)  # system prompt + tools before the first call
        self.ttl_1h = spec["ttl_1h"]
        self.limit = spec["ctx_limit"] if not self.side else 160_000
        self.last_call_ms = 0
        self.last_usage: dict[str, Any] = {}
        self.sub_totals = [0, 0, 0, 0]
        self.v2 = version_tuple(spec["version"]) >= (2,)

    # -- lines

    def _head(self, kind: str) -> dict[str, Any]:
        u = uuid4(self.r)
        line = dict(self.base)
        line["parentUuid"] = self.parent
        line["type"] = kind
        line["uuid"] = u
        line["timestamp"] = iso(self.t)
        self.parent = u
        return line

    def user_text(self, text: str, meta: bool = False) -> None:
        line = self._head("user")
        line["message"] = {"role": "user", "content": text}
        if meta:
            line["isMeta"] = True
        self.out.add(dumps(line), "user", self.t)
        self.pending += len(text) // 4

    def snapshot(self) -> None:
        mid = uuid4(self.r)
        files = {
            self.r.choice(FILES): {
                "backupFileName": f"{self.r.getrandbits(64):016x}@v{v}",
                "version": v,
                "backupTime": iso(self.t),
            }
            for v in range(1, self.r.randint(1, 4))
        }
        line = {
            "type": "file-history-snapshot",
            "messageId": mid,
            "snapshot": {"messageId": mid, "trackedFileBackups": files, "timestamp": iso(self.t)},
            "isSnapshotUpdate": False,
        }
        self.out.add(dumps(line), "file-history-snapshot", self.t)

    def system(self, subtype: str, content: str, extra: dict[str, Any] | None = None) -> None:
        line = self._head("system")
        line["subtype"] = subtype
        line["content"] = content
        line["isMeta"] = False
        line["level"] = "info"
        if extra:
            line.update(extra)
        self.out.add(dumps(line), "system", self.t)

    def tool_result(self, tool_id: str, text: str, result: dict[str, Any], err: bool) -> None:
        line = self._head("user")
        line["message"] = {
            "role": "user",
            "content": [
                {"tool_use_id": tool_id, "type": "tool_result", "content": text, "is_error": err}
            ],
        }
        line["toolUseResult"] = result
        self.out.add(dumps(line), "user", self.t)
        # the model sees more than the line shows: line numbers, system reminders
        self.pending += len(text) // 3 + self.r.randint(50, 2000)

    # -- usage

    def _usage(self, out_tokens: int) -> tuple[dict[str, Any], tuple[int, int, int, int]]:
        """Usage of the next request: the prompt grows by what was added since the last call."""
        r = self.r
        total_in = self.prompt + self.pending
        self.pending = 0
        gap = self.t - self.last_call_ms
        ttl = 3_600_000 if self.ttl_1h else 300_000
        if self.model == QWEN:
            self.prompt = total_in
            return {"input_tokens": total_in, "output_tokens": out_tokens}, (
                total_in,
                out_tokens,
                0,
                0,
            )
        inp = r.choice((1, 1, 2, 3, 4, 5, 6, 8)) if r.random() < 0.9 else r.randint(10, 2500)
        if self.prompt and gap < ttl:
            cache_read = self.prompt
        else:  # cold or expired cache: only the shared system prompt is still cached
            cache_read = r.choice((0, 0, 11_847, 14_296, 17_532)) if not self.prompt else 14_296
        cache_read = min(cache_read, max(0, total_in - inp))
        creation = max(0, total_in - inp - cache_read)
        self.prompt = total_in
        self.last_call_ms = self.t
        c1h = creation if self.ttl_1h else 0
        usage: dict[str, Any] = {
            "input_tokens": inp,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": creation - c1h,
                "ephemeral_1h_input_tokens": c1h,
            },
            "output_tokens": out_tokens,
            "service_tier": "standard",
        }
        if self.v2:
            usage["server_tool_use"] = {"web_search_requests": 0}
        return usage, (inp, out_tokens, creation, cache_read)

    def response(self, blocks: list[dict[str, Any]], stop: str) -> None:
        """One API response, written as one line per content block like Claude Code does."""
        r, tally = self.r, self.tally
        chars = sum(
            len(json.dumps(b.get("input", b.get("text", b.get("thinking", ""))))) for b in blocks
        )
        out_final = max(1, chars // 4 + r.randint(5, 60))
        usage, vals = self._usage(out_final)
        if self.model == QWEN:
            mid, rid = f"msg_{uuid4(r)}", None
        else:
            mid, rid = f"msg_01{b62(r, 22)}", f"req_011C{b62(r, 20)}"
        total_prompt = vals[0] + vals[2] + vals[3]
        if total_prompt > 200_000 and self.model == SONNET:
            tally.bump("sonnet_requests_over_200k_input")
        n = len(blocks)
        differ = n > 1 and self.model != QWEN and r.random() < 0.6
        early = r.choice((1, 2, 4, 8, 8, 12, 26))
        if self.t // DAY_MS != (self.t + 20_000) // DAY_MS:  # keep all copies on one day
            self.t = (self.t // DAY_MS + 1) * DAY_MS + r.randint(0, 900)
        for j, block in enumerate(blocks):
            last = j == n - 1
            u = dict(usage)
            o = out_final if (last or not differ) else early
            u["output_tokens"] = o
            line = self._head("assistant")
            line["message"] = {
                "model": self.model,
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop if last else None,
                "stop_sequence": None,
                "usage": u,
            }
            if rid is not None:
                line["requestId"] = rid
            # put type/uuid/timestamp last, as Claude Code does
            for k in ("type", "uuid", "timestamp"):
                line[k] = line.pop(k)
            self.out.add(dumps(line), "assistant", self.t)
            Tally._add(self.out.usage_lines, self.model, (vals[0], o, vals[2], vals[3]))
            if not last:
                self.t += r.randint(30, 2500)
        first_out = early if differ else out_final
        Tally._add(tally.truth, (self.model, day_of(self.t)), vals)
        Tally._add(tally.first, self.model, (vals[0], first_out, vals[2], vals[3]))
        tally.bump("responses")
        if n > 1:
            tally.bump("multi_line_responses")
        if differ:
            tally.bump("responses_with_smaller_early_copies")
        if self.model == QWEN:
            tally.bump("qwen_responses")
        for i, v in enumerate(vals):
            self.sub_totals[i] += v
        self.last_usage = usage
        self.pending += out_final

    def synthetic(self, text: str) -> None:
        """A client-made message (usage limit, API error): model `<synthetic>`, zero usage."""
        line = self._head("assistant")
        zero = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "server_tool_use": {"web_search_requests": 0},
            "service_tier": None,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        }
        line["message"] = {
            "id": uuid4(self.r),
            "container": None,
            "model": SYNTHETIC,
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": zero,
            "content": [{"type": "text", "text": text}],
        }
        line["isApiErrorMessage"] = True
        for k in ("type", "uuid", "timestamp"):
            line[k] = line.pop(k)
        self.out.add(dumps(line), "assistant", self.t)
        self.tally.bump("synthetic_lines")

    # -- tools

    def tool_call(self) -> tuple[dict[str, Any], Callable[[], None]]:
        """A tool_use block and the function that writes its result line."""
        r = self.r
        tid = f"toolu_01{b62(r, 22)}"
        cwd = self.spec["cwd"]
        sep = "\\" if cwd[1:3] == ":\\" else "/"
        path = cwd + sep + r.choice(FILES).replace("/", sep)
        k = r.random()
        if k < 0.32:
            cmd = r.choice(
                [
                    "pytest -x -q tests/",
                    "npm run build",
                    "git status && git diff --stat",
                    "rg -n 'TODO' src | head -50",
                    "cargo test --workspace",
                    "make lint",
                    "ls -la",
                    "go test ./...",
                ]
            )
            inp = {"command": cmd, "description": prose(r, 40)[:60].strip()}
            block = {"type": "tool_use", "id": tid, "name": "Bash", "input": inp}
            stdout = code(r, lognorm(r, 120, 1.3, 20, 30_000))
            err = r.random() < 0.12

            def result() -> None:
                res = {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}
                self.tool_result(tid, stdout, res, err)

        elif k < 0.62:
            block = {"type": "tool_use", "id": tid, "name": "Read", "input": {"file_path": path}}
            body = code(r, lognorm(r, 200, 1.2, 40, 40_000))
            nl = body.count("\n")

            def result() -> None:
                numbered = body  # Claude Code numbers lines in the text it shows the model
                res = {
                    "type": "text",
                    "file": {
                        "filePath": path,
                        "content": body,
                        "numLines": nl,
                        "startLine": 1,
                        "totalLines": nl,
                    },
                }
                self.tool_result(tid, numbered, res, False)

        elif k < 0.8:
            old, new = code(r, r.randint(30, 250)), code(r, r.randint(30, 350))
            inp = {"file_path": path, "old_string": old, "new_string": new}
            block = {"type": "tool_use", "id": tid, "name": "Edit", "input": inp}

            def result() -> None:
                text = f"The file {path} has been updated. Here's the result of running `cat -n`:"
                res = {
                    "filePath": path,
                    "oldString": old,
                    "newString": new,
                    "structuredPatch": [
                        {
                            "oldStart": r.randint(1, 400),
                            "oldLines": old.count("\n"),
                            "newStart": r.randint(1, 400),
                            "newLines": new.count("\n"),
                            "lines": ["-" + x for x in old.splitlines()]
                            + ["+" + x for x in new.splitlines()],
                        }
                    ],
                    "userModified": False,
                }
                self.tool_result(tid, text + "\n" + new[:300], res, False)

        elif k < 0.9:
            pat = r.choice(FUNCS)
            inp = {"pattern": pat, "path": cwd, "output_mode": "content"}
            block = {"type": "tool_use", "id": tid, "name": "Grep", "input": inp}
            hits = "".join(
                f"{r.choice(FILES)}:{r.randint(1, 900)}:{c}"
                for c in r.choices(CODE, k=r.randint(1, 15))
            )

            def result() -> None:
                self.tool_result(
                    tid, hits, {"mode": "content", "numFiles": 3, "content": hits}, False
                )

        else:
            todos = [
                {
                    "content": prose(r, 50)[:70].strip(),
                    "status": r.choice(["pending", "in_progress", "completed"]),
                    "activeForm": prose(r, 40)[:60].strip(),
                }
                for _ in range(r.randint(2, 5))
            ]
            block = {"type": "tool_use", "id": tid, "name": "TodoWrite", "input": {"todos": todos}}

            def result() -> None:
                text = (
                    "Todos have been modified successfully. Ensure that you continue to use "
                    "the todo list to track your progress."
                )
                self.tool_result(tid, text, {"oldTodos": [], "newTodos": todos}, False)

        return block, result

    def step_time(self, lo: int, hi: int) -> None:
        self.t += self.r.randint(lo, hi)

    def maybe_compact(self) -> None:
        if self.prompt + self.pending <= self.limit:
            return
        self.step_time(20_000, 90_000)
        self.system(
            "compact_boundary",
            "Conversation compacted",
            {"compactMetadata": {"trigger": "auto", "preTokens": self.prompt}},
        )
        self.tally.bump("compactions")
        summary = (
            "This session is being continued from a previous conversation that ran out of "
            "context. The conversation is summarized below:\n" + prose(self.r, 5000)
        )
        self.user_text(summary)
        self.prompt = 0
        self.pending = self.r.randint(22_000, 45_000)

    def turn(self, budget_end: int, task: Callable[[str], None] | None) -> None:
        """A user prompt, then tool-using steps until a final answer."""
        r = self.r
        if self.v2 and not self.side:
            self.snapshot()
        self.step_time(800, 4000)
        if r.random() < 0.03 and not self.side:
            self.user_text(
                "<command-name>/model</command-name>\n<command-message>model</command-message>",
                meta=True,
            )
        self.user_text(prose(r, lognorm(r, 180, 1.2, 8, 20_000)))
        steps = 1 + min(40, int(r.expovariate(1 / 5))) + (task is not None)
        for s in range(steps):
            self.maybe_compact()
            self.step_time(1500, 25_000)
            final = task is None and (s == steps - 1 or self.out.size > budget_end)
            blocks: list[dict[str, Any]] = []
            if self.model in (OPUS41, OPUS46, SONNET) and r.random() < 0.3:
                blocks.append(
                    {
                        "type": "thinking",
                        "thinking": prose(r, lognorm(r, 180, 1.0, 40, 8000)),
                        "signature": "".join(r.choices(B64, k=r.randint(2, 6))),
                    }
                )
            if final:
                blocks.append({"type": "text", "text": markdown(r, lognorm(r, 220, 0.9, 20, 9000))})
                self.response(blocks, "end_turn")
                break
            if r.random() < 0.5:
                blocks.append({"type": "text", "text": prose(r, lognorm(r, 150, 0.8, 20, 1200))})
            if task is not None:
                tid = f"toolu_01{b62(r, 22)}"
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": tid,
                        "name": "Task",
                        "input": {
                            "description": prose(r, 30)[:40].strip(),
                            "prompt": prose(r, lognorm(r, 800, 0.7, 100, 6000)),
                            "subagent_type": r.choice(["general-purpose", "Explore", "Plan"]),
                        },
                    }
                )
                self.response(blocks, "tool_use")
                task(tid)
                task = None
                continue
            calls = [self.tool_call() for _ in range(1 if r.random() < 0.85 else r.randint(2, 4))]
            blocks.extend(b for b, _ in calls)
            self.response(blocks, "tool_use")
            for _, write_result in calls:
                self.step_time(100, 20_000)
                write_result()
            if r.random() < 0.004:
                self.step_time(1000, 5000)
                self.synthetic(
                    'API Error: 529 {"type":"error","error":{"type":"overloaded_error",'
                    '"message":"Overloaded"}}'
                )


def claude_session(spec: dict[str, Any], tally: Tally, dry: bool = False) -> list[FileOut]:
    """Write one Claude Code session (and its subagents); return the files (not yet written)."""
    r = random.Random(spec["seed"])
    root = spec["root"]
    sid = spec["sid"]
    folder = os.path.join(root, "claude", "projects", encode_cwd(spec["cwd"]))
    main = FileOut(os.path.join(folder, f"{sid}.jsonl"), tally)
    files = [main]
    t = spec["start_ms"]
    parent = spec.get("parent")
    leaf: str | None = None
    if parent is not None and not dry:
        # A resumed session: a summary, then the parent's lines re-written under this sessionId.
        pfiles = claude_session(parent, Tally(), dry=True)
        leaf = json.loads(pfiles[0].parts[-1]).get("uuid") or uuid4(r)
        summary = {"type": "summary", "summary": prose(r, 60)[:80].strip(), "leafUuid": leaf}
        main.add(dumps(summary), "summary", t)
        main.absorb(pfiles[0], f'"sessionId":"{parent["sid"]}"', f'"sessionId":"{sid}"')
        tally.bump("resumed_sessions")
        tally.bump("copied_lines", len(pfiles[0].parts))
        t = max(t, pfiles[0].last_ms + r.randint(60_000, 3 * DAY_MS))
    elif r.random() < 0.15:
        main.add(
            dumps({"type": "summary", "summary": prose(r, 60)[:80].strip(), "leafUuid": uuid4(r)}),
            "summary",
            t,
        )

    conv = ClaudeConv(r, main, spec, sid, t, spec["model"])
    conv.parent = leaf  # a resumed session continues the copied conversation
    subs: list[int] = list(spec["subagents"])
    n_sub = len(subs)
    start_size = main.size
    target = start_size + spec["target"]
    limit_at = start_size + spec["target"] * r.random() if spec["limit_hit"] else -1

    def run_task(tid: str) -> None:
        files.append(subagent(spec, r, conv, tally, subs.pop(0), tid))

    while main.size < target:
        due = (n_sub - len(subs)) * spec["target"] / (n_sub + 1)
        task = run_task if subs and main.size - start_size >= due else None
        if 0 <= limit_at <= main.size:
            limit_at = -1
            conv.step_time(2000, 9000)
            reset = (conv.t // 3_600_000 + r.randint(1, 5)) * 3600
            if version_tuple(spec["version"]) >= (2, 0, 60) and r.random() < 0.4:
                hour = time.strftime("%-I%p", time.gmtime(reset)).lower()
                text = f"You've hit your limit · resets {hour} (UTC)"
            else:
                text = f"Claude AI usage limit reached|{reset}"
            conv.synthetic(text)
            conv.t = reset * 1000 + r.randint(60_000, 4 * 3_600_000)
        if r.random() < 0.03 and conv.model != QWEN:
            models, weights = claude_models(date_of(conv.t))
            conv.model = r.choices(models, weights)[0]
            conv.system("local_command", "<command-name>/model</command-name>")
        conv.turn(target, task)
        conv.step_time(5_000, lognorm(r, 120_000, 1.5, 10_000, 6 * 3_600_000))
    while subs:  # a short session that ended before all its planned subagents ran
        conv.turn(target, run_task)
    return files


def subagent(
    spec: dict[str, Any], r: random.Random, conv: ClaudeConv, tally: Tally, size: int, tid: str
) -> FileOut:
    """A Task subagent's transcript, then the Task result (with a usage decoy) in the parent."""
    agent = f"{r.getrandbits(32):08x}"
    root = os.path.join(spec["root"], "claude", "projects", encode_cwd(spec["cwd"]))
    if spec["old_layout"]:
        path = os.path.join(root, f"agent-{agent}.jsonl")
    else:
        path = os.path.join(root, spec["sid"], "subagents", f"agent-{agent}.jsonl")
    out = FileOut(path, tally)
    model = conv.model
    if model != QWEN and conv.t >= HAIKU_FROM_MS and r.random() < 0.6:
        model = HAIKU
    start = conv.t + r.randint(200, 2000)
    sub = ClaudeConv(r, out, spec, conv.base["sessionId"], start, model, agent)
    while out.size < size:
        sub.turn(size, None)
    conv.t = sub.t + r.randint(500, 5000)
    text = prose(r, lognorm(r, 900, 0.8, 100, 6000))
    res = {
        "status": "completed",
        "prompt": prose(r, 200),
        "agentId": agent,
        "content": [{"type": "text", "text": text}],
        "totalDurationMs": sub.t - start,
        "totalTokens": sum(sub.sub_totals),
        "totalToolUseCount": r.randint(1, 40),
        "usage": dict(sub.last_usage),  # a copy of the subagent's usage: not to be counted again
    }
    conv.tool_result(tid, text, res, False)
    tally.bump("task_results_with_usage")
    return out


# ---------------------------------------------------------------------------------------------
# Codex rollouts


def codex_session(spec: dict[str, Any], tally: Tally) -> list[FileOut]:
    """One Codex rollout: meta, turns of reasoning/tool calls, token_count events with repeats."""
    r = random.Random(spec["seed"])
    t = spec["start_ms"]
    sid = uuid7(r, t)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(t // 1000))
    folder = os.path.join(
        spec["root"], "codex", "sessions", time.strftime("%Y/%m/%d", time.gmtime(t // 1000))
    )
    out = FileOut(os.path.join(folder, f"rollout-{stamp}-{sid}.jsonl"), tally)
    cwd = spec["cwd"]
    day = date_of(t)
    models, weights = codex_models(day)
    model = r.choices(models, weights)[0]
    window = 272_000 if day < D(2025, 11, 19) else 258_400
    effort = r.choice(["medium", "medium", "high", "low"] + (["xhigh"] if model != GPT5 else []))
    cli = codex_version(day)
    src = "vscode" if r.random() < 0.25 else "cli"

    def emit(kind: str, payload: dict[str, Any], label: str) -> None:
        out.add(dumps({"timestamp": iso(t), "type": kind, "payload": payload}), label, t)

    emit(
        "session_meta",
        {
            "id": sid,
            "timestamp": iso(t),
            "cwd": cwd,
            "originator": "codex_vscode" if src == "vscode" else "codex_cli_rs",
            "cli_version": cli,
            "instructions": None,
            "source": src,
            "model_provider": "openai",
            "git": {
                "commit_hash": f"{r.getrandbits(160):040x}",
                "branch": spec["branch"],
                "repository_url": f"git@github.com:alexdev/{spec['name']}.git",
            },
        },
        "session_meta",
    )
    env = (
        f"<environment_context>\n  <cwd>{cwd}</cwd>\n"
        "  <approval_policy>on-request</approval_policy>"
        "\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted"
        "</network_access>\n  <shell>zsh</shell>\n</environment_context>"
    )
    emit(
        "response_item",
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": env}]},
        "response_item",
    )
    if r.random() < 0.5:
        agents_md = (
            "<user_instructions>\n\n" + markdown(r, r.randint(800, 6000)) + "\n</user_instructions>"
        )
        emit(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": agents_md}],
            },
            "response_item",
        )

    total = [0, 0, 0, 0, 0]  # input, cached, output, reasoning, total
    prompt = 0
    pending = r.randint(6000, 14000)
    last_call = 0
    win5 = 5 * 3600
    anchor = r.randint(0, win5)
    naive = [0, 0, 0, 0, 0]

    def rate_limits() -> dict[str, Any]:
        now = t // 1000
        reset5 = ((now - anchor) // win5 + 1) * win5 + anchor
        reset7 = ((now - anchor) // (7 * 86400) + 1) * 7 * 86400 + anchor
        used5 = round(min(100.0, (1 - (reset5 - now) / win5) * r.uniform(30, 110)), 1)
        used7 = round(min(100.0, (1 - (reset7 - now) / (7 * 86400)) * r.uniform(20, 90)), 1)
        return {
            "primary": {"used_percent": used5, "window_minutes": 300, "resets_at": reset5},
            "secondary": {"used_percent": used7, "window_minutes": 10080, "resets_at": reset7},
        }

    def token_count(info: dict[str, Any] | None) -> None:
        emit(
            "event_msg",
            {"type": "token_count", "info": info, "rate_limits": rate_limits()},
            "event_msg",
        )
        if info is not None:
            for i, k in enumerate(
                (
                    "input_tokens",
                    "cached_input_tokens",
                    "output_tokens",
                    "reasoning_output_tokens",
                    "total_tokens",
                )
            ):
                naive[i] += info["last_token_usage"][k]

    if r.random() < 0.7:
        token_count(None)

    def call(out_tokens: int) -> dict[str, Any]:
        """A model call: its usage, the new cumulative totals; counted once in the truth."""
        nonlocal prompt, pending, last_call
        inp = prompt + pending
        cached = (prompt // 128) * 128 if prompt and t - last_call < 600_000 else 0
        cached = min(cached, inp)
        reasoning = int(out_tokens * r.uniform(0.0, 0.8))
        last = {
            "input_tokens": inp,
            "cached_input_tokens": cached,
            "output_tokens": out_tokens,
            "reasoning_output_tokens": reasoning,
            "total_tokens": inp + out_tokens,
        }
        vals = (inp, cached, out_tokens, reasoning, inp + out_tokens)
        for i, v in enumerate(vals):
            total[i] += v
        Tally._add(tally.truth, (model, day_of(t)), vals)
        tally.bump("turns")
        prompt, pending, last_call = inp, out_tokens, t
        tot = dict(zip(last, total, strict=True))
        return {"total_token_usage": tot, "last_token_usage": last, "model_context_window": window}

    start_size = out.size
    target = start_size + spec["target"]
    while out.size < target:
        t += lognorm(r, 60_000, 1.6, 3_000, 8 * 3_600_000)
        if r.random() < 0.04 and model != GPT52:
            models, weights = codex_models(date_of(t))
            model = r.choices(models, weights)[0]
        emit(
            "turn_context",
            {
                "cwd": cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {
                    "type": "workspace-write",
                    "network_access": False,
                    "exclude_tmpdir_env_var": False,
                    "exclude_slash_tmp": False,
                },
                "model": model,
                "effort": effort,
                "summary": "auto",
            },
            "turn_context",
        )
        ask = prose(r, lognorm(r, 300, 1.1, 10, 12_000))
        emit(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]},
            "response_item",
        )
        emit("event_msg", {"type": "user_message", "message": ask, "images": []}, "event_msg")
        pending += len(ask) // 4
        steps = 1 + min(60, int(r.expovariate(1 / 7)))
        for s in range(steps):
            if prompt + pending > window * 0.9:
                t += r.randint(10_000, 60_000)
                emit("compacted", {"message": prose(r, 4000)}, "compacted")
                tally.bump("compactions")
                prompt, pending = 0, r.randint(15_000, 30_000)
            t += r.randint(1_500, 40_000)
            final = s == steps - 1 or out.size > target
            think = prose(r, lognorm(r, 250, 0.8, 30, 3000))
            title = f"**{prose(r, 30)[:40].strip()}**\n\n"
            emit(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": title + think}],
                    "content": None,
                    "encrypted_content": "gAAAAAB" + "".join(r.choices(B64, k=r.randint(8, 60))),
                },
                "response_item",
            )
            emit("event_msg", {"type": "agent_reasoning", "text": title + think}, "event_msg")
            if final:
                answer = markdown(r, lognorm(r, 600, 0.9, 20, 8000))
                info = call(len(answer) // 4 + len(think) // 3 + r.randint(10, 200))
                emit("event_msg", {"type": "agent_message", "message": answer}, "event_msg")
                emit(
                    "response_item",
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": answer}],
                    },
                    "response_item",
                )
                token_count(info)
                for _ in range(r.choice((1, 1, 2, 2, 3))):
                    t += r.randint(5, 400)
                    token_count(info)
                break
            cid = f"call_{b62(r, 24)}"
            if r.random() < 0.2:
                patch = (
                    f"*** Begin Patch\n*** Update File: {r.choice(FILES)}\n@@\n"
                    + "".join("-" + c for c in r.choices(CODE, k=r.randint(1, 12)))
                    + "".join("+" + c for c in r.choices(CODE, k=r.randint(1, 25)))
                    + "*** End Patch"
                )
                emit(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": cid,
                        "name": "apply_patch",
                        "input": patch,
                    },
                    "response_item",
                )
                info = call(len(patch) // 4 + len(think) // 3)
                token_count(info)
                t += r.randint(50, 800)
                res = dumps(
                    {
                        "output": f"Success. Updated the following files:\nM {r.choice(FILES)}\n",
                        "metadata": {"exit_code": 0, "duration_seconds": 0.0},
                    }
                ).strip()
                emit(
                    "response_item",
                    {"type": "custom_tool_call_output", "call_id": cid, "output": res},
                    "response_item",
                )
            else:
                cmd = r.choice(
                    [
                        'rg -n "TODO" src',
                        "sed -n '1,200p' " + r.choice(FILES),
                        "pytest -q",
                        "git diff",
                        "ls -R | head -200",
                        "cat " + r.choice(FILES),
                        "npm test -- --silent",
                        "cargo check",
                    ]
                )
                args = dumps(
                    {"command": ["bash", "-lc", cmd], "workdir": cwd, "timeout_ms": 120000}
                ).strip()
                emit(
                    "response_item",
                    {"type": "function_call", "name": "shell", "arguments": args, "call_id": cid},
                    "response_item",
                )
                info = call(len(args) // 4 + len(think) // 3 + r.randint(5, 60))
                token_count(info)
                t += r.randint(100, 30_000)
                body = code(r, lognorm(r, 1500, 1.2, 10, 60_000))
                res = dumps(
                    {
                        "output": body,
                        "metadata": {
                            "exit_code": r.choice((0, 0, 0, 1)),
                            "duration_seconds": round(r.uniform(0.01, 20), 1),
                        },
                    }
                ).strip()
                emit(
                    "response_item",
                    {"type": "function_call_output", "call_id": cid, "output": res},
                    "response_item",
                )
                pending += len(body) // 4
            for _ in range(r.choice((1, 1, 2, 2, 3))):  # Codex repeats token_count events
                t += r.randint(5, 400)
                token_count(info)
    tally.naive = naive
    return [out]


# ---------------------------------------------------------------------------------------------
# Planning and running


def plan(
    out_dir: str, size_mb: float, seed: int, codex_share: float, end: dt.date, days: int
) -> list[dict[str, Any]]:
    """Decide every session (when, where, how big) up front, so workers need no shared state."""
    r = random.Random(seed)
    total = size_mb * 1_000_000
    max_file = int(min(20_000_000, max(300_000, total / 50)))
    first = end - dt.timedelta(days=days - 1)
    day_list = [first + dt.timedelta(days=i) for i in range(days)]
    day_w = [(0.4 + i / days) * (0.35 if d.weekday() >= 5 else 1.0) for i, d in enumerate(day_list)]
    projects = [(project_cwd(i, n), n) for i, n in enumerate(PROJECT_NAMES)]
    proj_w = [1 / (i + 1) ** 0.9 for i in range(len(projects))]
    branches = [
        "main",
        "main",
        "main",
        "develop",
        "feat/new-api",
        "fix/flaky-tests",
        "refactor",
        "",
    ]

    def when(earliest: dt.date) -> tuple[int, dt.date]:
        while True:
            d = r.choices(day_list, day_w)[0]
            if d >= earliest:
                break
        secs = int(min(86399, max(0, r.gauss(14.5 * 3600, 4 * 3600))))
        base = int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())
        return (base + secs) * 1000 + r.randint(0, 999), d

    specs: list[dict[str, Any]] = []
    claude_budget = total * (1 - codex_share)
    used = 0.0
    by_project: dict[str, list[dict[str, Any]]] = {}
    n = 0
    while used < claude_budget:
        n += 1
        if r.random() < 0.86:
            size = lognorm(r, 40_000, 1.3, 2_500, max_file)
        else:
            size = lognorm(r, 1_000_000, 1.0, 100_000, max_file)
        subs = []
        if r.random() < 0.22:
            subs = [
                lognorm(r, 30_000, 1.0, 3_000, max(10_000, max_file // 10))
                for _ in range(r.choice((1, 1, 1, 2, 2, 3, 4, 6)))
            ]
        cwd, name = r.choices(projects, proj_w)[0]
        start, day = when(first)
        models, weights = claude_models(day)
        model = r.choices(models, weights)[0]
        if day >= D(2026, 1, 1) and r.random() < 0.04:
            model = QWEN
        long_ctx = model == SONNET and size >= 600_000 and r.random() < 0.25
        version = claude_version(day - dt.timedelta(days=r.randint(0, 10)))
        spec: dict[str, Any] = {
            "kind": "claude",
            "root": out_dir,
            "seed": seed * 1_000_003 + n,
            "sid": uuid4(r),
            "cwd": cwd,
            "name": name,
            "start_ms": start,
            "target": size,
            "model": model,
            "subagents": subs,
            "version": version,
            "branch": r.choice(branches),
            "ttl_1h": r.random() < 0.3,
            "ctx_limit": r.randint(600_000, 900_000) if long_ctx else r.randint(140_000, 170_000),
            "limit_hit": r.random() < 0.02,
            "old_layout": day < D(2025, 10, 1),
            "parent": None,
        }
        est = size + sum(subs)
        peers = [
            p
            for p in by_project.get(cwd, [])
            if p["target"] <= max_file // 8 and not p["subagents"]
        ]
        if peers and r.random() < 0.1:
            parent = r.choice(peers)
            for k in ("model", "version", "branch", "ttl_1h", "old_layout"):
                spec[k] = parent[k]  # a resumed session continues where its parent left off
            spec["parent"] = parent
            est += parent["target"]
        else:
            by_project.setdefault(cwd, []).append(spec)
        specs.append(spec)
        used += est
    codex_budget = total * codex_share
    used = 0.0
    codex_first = max(first, D(2025, 9, 15))
    while used < codex_budget:
        n += 1
        if r.random() < 0.88:
            size = lognorm(r, 60_000, 1.3, 3_000, max_file)
        else:
            size = lognorm(r, 1_200_000, 1.0, 100_000, max_file)
        cwd, name = r.choices(projects, proj_w)[0]
        start, _ = when(codex_first)
        specs.append(
            {
                "kind": "codex",
                "root": out_dir,
                "seed": seed * 1_000_003 + n,
                "cwd": cwd,
                "name": name,
                "start_ms": start,
                "target": size,
                "branch": r.choice(branches) or "main",
            }
        )
        used += size
    return specs


def run_one(spec: dict[str, Any]) -> tuple[str, Tally, list[tuple[str, int]]]:
    """Worker: generate one session, write its files, return its counts."""
    tally = Tally()
    files = claude_session(spec, tally) if spec["kind"] == "claude" else codex_session(spec, tally)
    written = []
    for f in files:
        written.append((f.path, f.write()))
        for k, n in f.kinds.items():
            tally.lines[k] = tally.lines.get(k, 0) + n
        for m, row in f.usage_lines.items():
            acc = tally.all_lines.setdefault(m, [0] * len(row))
            for i, v in enumerate(row):
                acc[i] += v
    return spec["kind"], tally, written


def sums(rows: Iterable[list[int]], keys: tuple[str, ...]) -> dict[str, int]:
    acc = [0] * (len(keys) + 1)
    for row in rows:
        for i, v in enumerate(row):
            acc[i] += v
    out = {f"{k}_tokens": acc[i] for i, k in enumerate(keys)}
    out["events"] = acc[len(keys)]
    return out


def claude_fields(t: dict[str, int]) -> dict[str, int]:
    """Claude token counts in ccusage's JSON field names."""
    d = {
        "inputTokens": t["input_tokens"],
        "outputTokens": t["output_tokens"],
        "cacheCreationTokens": t["cache_creation_tokens"],
        "cacheReadTokens": t["cache_read_tokens"],
    }
    d["totalTokens"] = sum(d.values())
    return d


def codex_fields(t: dict[str, int]) -> dict[str, int]:
    """Codex counts in ccusage's Claude-shaped fields: uncached input, cached input as reads."""
    d = {
        "inputTokens": t["input_tokens"] - t["cached_input_tokens"],
        "outputTokens": t["output_tokens"],
        "cacheCreationTokens": 0,
        "cacheReadTokens": t["cached_input_tokens"],
    }
    d["totalTokens"] = sum(d.values())
    return d


def by_key(
    table: dict[tuple[str, str], list[int]], pos: int, keys: tuple[str, ...]
) -> dict[str, dict[str, int]]:
    groups: dict[str, list[list[int]]] = {}
    for k, row in table.items():
        groups.setdefault(k[pos], []).append(row)
    return {g: sums(rows, keys) for g, rows in sorted(groups.items())}


def generate(
    out_dir: str, size_mb: float, seed: int, codex_share: float, end: dt.date, days: int, jobs: int
) -> dict[str, Any]:
    """Plan, generate in parallel, and write the manifest; return it."""
    t0 = time.perf_counter()
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(os.path.join(out_dir, "manifest.json")):
        sys.exit(f"{out_dir} already holds a corpus; remove it first")
    specs = plan(out_dir, size_mb, seed, codex_share, end, days)
    order = sorted(specs, key=lambda s: -(s["target"] + sum(s.get("subagents", ()))))
    tallies = {"claude": Tally(), "codex": Tally()}
    counts = {"claude_sessions": 0, "claude_subagents": 0, "codex_rollouts": 0}
    nbytes = {"claude": 0, "codex": 0}
    largest = 0
    with Pool(jobs) as pool:
        for kind, tally, written in pool.imap_unordered(run_one, order, chunksize=1):
            tallies[kind].merge(tally)
            for path, size in written:
                nbytes[kind] += size
                largest = max(largest, size)
                if kind == "codex":
                    counts["codex_rollouts"] += 1
                elif os.path.basename(path).startswith("agent-"):
                    counts["claude_subagents"] += 1
                else:
                    counts["claude_sessions"] += 1
    elapsed = time.perf_counter() - t0
    cl, cx = tallies["claude"], tallies["codex"]
    ckeys, xkeys = TOKEN_KEYS, CODEX_KEYS
    claude_truth = sums(cl.truth.values(), ckeys)
    codex_truth = sums(cx.truth.values(), xkeys)
    first_models = {m: sums([row], ckeys) for m, row in sorted(cl.first.items())}
    all_models = {m: sums([row], ckeys) for m, row in sorted(cl.all_lines.items())}
    naive = cx.naive
    cf, xf = claude_fields(claude_truth), codex_fields(codex_truth)
    manifest = {
        "generator": "bench/gen_corpus.py",
        "args": {
            "size_mb": size_mb,
            "seed": seed,
            "codex_share": codex_share,
            "end": end.isoformat(),
            "days": days,
        },
        "period": {
            "first": (end - dt.timedelta(days=days - 1)).isoformat(),
            "last": end.isoformat(),
        },
        "files": {**counts, "total": sum(counts.values())},
        "bytes": {**nbytes, "total": sum(nbytes.values()), "largest_file": largest},
        "lines": {
            "claude": dict(sorted(cl.lines.items())),
            "codex": dict(sorted(cx.lines.items())),
        },
        "expected": {
            "note": "ccusage-shaped totals a correct reader reports (TZ=UTC days); Codex input "
            "is uncached input, cached input is counted as cache reads",
            "claude": cf,
            "codex": xf,
            "all": {k: cf[k] + xf[k] for k in cf},
        },
        "claude": {
            "truth": claude_truth,
            "truth_rule": "unique message.id+requestId (message.id alone when no requestId), the "
            "copy with the largest token total; <synthetic> excluded; Task toolUseResult.usage "
            "ignored",
            "first_copy": sums(cl.first.values(), ckeys),
            "all_usage_lines": sums(cl.all_lines.values(), ckeys),
            "first_copy_by_model": first_models,
            "all_usage_lines_by_model": all_models,
            "by_model": by_key(cl.truth, 0, ckeys),
            "by_day": by_key(cl.truth, 1, ckeys),
            "stats": dict(sorted(cl.stats.items())),
        },
        "codex": {
            "truth": codex_truth,
            "truth_rule": "sum over token_count events of the increase of total_token_usage "
            "(repeats and info:null add nothing); input includes cached, output includes "
            "reasoning",
            "naive_sum_of_last_token_usage": dict(
                zip([f"{k}_tokens" for k in xkeys], naive[:5], strict=True)
            ),
            "by_model": by_key(cx.truth, 0, xkeys),
            "by_day": by_key(cx.truth, 1, xkeys),
            "stats": dict(sorted(cx.stats.items())),
        },
        "generation": {"seconds": round(elapsed, 2), "jobs": jobs},
    }
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return manifest


# ---------------------------------------------------------------------------------------------
# Independent recount


def _jsonl(root: Path) -> list[Path]:
    return sorted(root.rglob("*.jsonl")) if root.is_dir() else []


def recount(out_dir: str) -> dict[str, dict[str, int]]:
    """Recount the truth from the files alone, the simple way (parses every line)."""
    root = Path(out_dir)
    best: dict[tuple[str, ...], tuple[int, tuple[int, int, int, int]]] = {}
    for path in _jsonl(root / "claude" / "projects"):
        with path.open(encoding="utf-8") as f:
            for raw in f:
                line = json.loads(raw)
                msg = line.get("message")
                if line.get("type") != "assistant" or not isinstance(msg, dict):
                    continue
                usage = msg.get("usage")
                if not usage or msg.get("model") == SYNTHETIC:
                    continue
                vals = (
                    usage.get("input_tokens", 0),
                    usage.get("output_tokens", 0),
                    usage.get("cache_creation_input_tokens", 0),
                    usage.get("cache_read_input_tokens", 0),
                )
                rid = line.get("requestId")
                key = (msg["id"], rid) if rid else (msg["id"],)
                old = best.get(key)
                if old is None or sum(vals) > old[0]:
                    best[key] = (sum(vals), vals)
    claude = [0, 0, 0, 0]
    for _, vals in best.values():
        for i, v in enumerate(vals):
            claude[i] += v
    codex = [0, 0, 0, 0, 0]
    names = (
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
        "total_tokens",
    )
    for path in _jsonl(root / "codex" / "sessions"):
        prev = [0, 0, 0, 0, 0]
        with path.open(encoding="utf-8") as f:
            for raw in f:
                line = json.loads(raw)
                payload = line.get("payload") or {}
                if payload.get("type") != "token_count" or not payload.get("info"):
                    continue
                tot = [payload["info"]["total_token_usage"][k] for k in names]
                if tot != prev:
                    for i in range(5):
                        codex[i] += tot[i] - prev[i]
                    prev = tot
    return {
        "claude": dict(zip([f"{k}_tokens" for k in TOKEN_KEYS], claude, strict=True)),
        "codex": dict(zip([f"{k}_tokens" for k in CODEX_KEYS], codex, strict=True)),
    }


def verify(out_dir: str) -> bool:
    """Check that the manifest's truth equals a recount of the files; print both."""
    with open(os.path.join(out_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    found = recount(out_dir)
    ok = True
    for src in ("claude", "codex"):
        want = {k: v for k, v in manifest[src]["truth"].items() if k != "events"}
        same = want == found[src]
        ok &= same
        print(f"{src}: {'OK' if same else 'MISMATCH'}\n  manifest {want}\n  recount  {found[src]}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size-mb", type=float, default=1000.0, help="approximate corpus size")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--codex-share", type=float, default=0.2, help="share of bytes from Codex")
    ap.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=D(2026, 2, 28),
        help="last day of the period (UTC)",
    )
    ap.add_argument("--days", type=int, default=181, help="length of the period in days")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--verify",
        action="store_true",
        help="recount an existing corpus and compare it with its manifest",
    )
    args = ap.parse_args(argv)
    if args.verify:
        return 0 if verify(args.out_dir) else 1
    m = generate(
        args.out_dir, args.size_mb, args.seed, args.codex_share, args.end, args.days, args.jobs
    )
    mb = m["bytes"]["total"] / 1e6
    secs = m["generation"]["seconds"]
    print(
        f"wrote {m['files']['total']} files, {mb:.1f} MB in {secs:.1f} s "
        f"({mb / max(secs, 1e-9):.0f} MB/s) to {os.path.abspath(args.out_dir)}"
    )
    print(json.dumps({"files": m["files"], "expected": m["expected"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
