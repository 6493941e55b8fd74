"""Accounts: whose logs are whose, how each one pays (a plan or the API), what its plan costs.

Someone with a work and a personal Claude login runs Claude Code with two config folders
(`CLAUDE_CONFIG_DIR`), Codex with two `CODEX_HOME`s. An account names those folders, its auth
mode and its plan. Calls found under an account's folders are attributed to it at ingest
(`--by account`, budgets scoped to an account), and each plan-window reading to the account
whose folder it came from, so `quota` shows every account's windows apart.

With no accounts configured there is one implicit account, `default`: the top-level `plan`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendlane.policy.config import _Table

AUTH_MODES = ("subscription", "api", "both")
DEFAULT = "default"
_KEYS = ("name", "provider", "auth", "plan", "logs", "notes")


@dataclass(frozen=True, slots=True)
class Account:
    """One login. `auth`: `subscription` (a plan pays, usage is worth its API price),
    `api` (every call is billed), `both` (a plan, and API billing beyond it)."""

    name: str
    provider: str = "anthropic"
    auth: str = "subscription"
    plan: str | None = None
    logs: tuple[str, ...] = ()  # absolute agent folders: Claude config dirs, Codex homes
    notes: str | None = None
    line: int | None = None


def folder(path: str) -> str:
    """An agent folder as accounts and readings compare it: `~` expanded, absolute."""
    return os.path.abspath(os.path.expanduser(path))


def by_folder(accounts: Sequence[Account]) -> dict[str, tuple[str, str]]:
    """Agent folder -> (account, auth mode): what the ingest attributes calls with."""
    return {path: (a.name, a.auth) for a in accounts for path in a.logs}


def account_of(accounts: Sequence[Account], root: str) -> Account | None:
    """The account whose folders include `root` (a reading's or a log's agent folder)."""
    if not root:
        return None
    wanted = folder(root)
    for account in accounts:
        if wanted in account.logs:
            return account
    return None


def implicit(plan: str | None) -> Account:
    """The account of a config that names none: the top-level plan (a subscription when
    set; with none, how the calls are paid is not known)."""
    provider = "openai" if plan == "plus" else "anthropic"
    return Account(name=DEFAULT, provider=provider, plan=plan,
                   auth="subscription" if plan else "unknown")  # fmt: skip


def parse_accounts(top: _Table, prices: Mapping[str, float]) -> tuple[Account, ...]:
    """The `accounts` list of a config file, checked: each needs a name and its log folders;
    auth modes and plans must be known; a folder belongs to one account only."""
    from spendlane.policy.config import canonical_provider

    value = top.get("accounts")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise top.fail("accounts", "expected a list of accounts ([[accounts]] in TOML)")
    accounts: list[Account] = []
    owner: dict[str, str] = {}
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise top.doc.error(("accounts", index), "accounts",
                                f"expected an account, got {entry!r}")  # fmt: skip
        table = type(top)(top.doc, entry, ("accounts", index))
        table.check_keys(_KEYS)
        name = table.text("name", required=True)
        assert name is not None
        if any(a.name == name for a in accounts):
            raise table.fail("name", f"duplicate account name {name!r}")
        auth = table.text("auth") or "subscription"
        if auth not in AUTH_MODES:
            raise table.fail("auth", f"expected one of {', '.join(AUTH_MODES)}, got {auth!r}")
        plan = table.text("plan")
        if plan is not None and plan not in prices:
            raise table.fail("plan", f"expected one of {', '.join(sorted(prices))} (or add it "
                                     f"under [plans]), got {plan!r}")  # fmt: skip
        if plan is not None and auth == "api":
            raise table.fail("plan", "an account with auth = 'api' has no plan")
        logs = table.get("logs")
        if isinstance(logs, str):
            logs = [logs]
        if not isinstance(logs, list) or not logs or not all(isinstance(p, str) for p in logs):
            raise table.fail("logs", "expected the account's agent folders (its Claude Code "
                                     f"config dir or Codex home), got {logs!r}")  # fmt: skip
        folders = tuple(folder(p) for p in logs)
        for path in folders:
            if path in owner:
                raise table.fail("logs", f"{path} already belongs to account {owner[path]!r}")
            owner[path] = name
        accounts.append(Account(
            name=name, provider=canonical_provider(table.text("provider") or "anthropic"),
            auth=auth, plan=plan, logs=folders, notes=table.text("notes"),
            line=table.doc.lines.get(("accounts", index)),
        ))  # fmt: skip
    return tuple(accounts)


def configured_folders() -> dict[str, tuple[str, str]]:
    """`by_folder` of the accounts in the user's config; none when it cannot be read (the
    budget commands say why, naming file, line and field)."""
    from spendlane.policy.service import load_budgets
    from spendlane.tomlconfig import ConfigError

    try:
        return by_folder(load_budgets(None).accounts)
    except ConfigError:
        return {}


def accounts_of(configured: Sequence[Account], plan: str | None) -> tuple[Account, ...]:
    """The accounts a config describes: its `accounts`, else the implicit default one."""
    return tuple(configured) or (implicit(plan),)
