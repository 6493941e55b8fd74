"""prices.toml: own models, free local models, negotiated rates; bad files say where."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Env

from spendlane.events import CostBasis, UsageEvent
from spendlane.pricing import Pricer
from spendlane.pricing.overrides import load_overrides
from spendlane.tomlconfig import ConfigError

TS = 1_790_000_000_000


def event(model: str, provider: str = "unknown", **tokens: int) -> UsageEvent:
    return UsageEvent(key="k", ts_ms=TS, source="t", provider=provider, model=model, **tokens)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


def test_own_rates_for_an_unknown_model(tmp_path: Path) -> None:
    path = write(tmp_path, """
[[model]]
match = "qwen3.5-plus"
provider = "alibaba"
input = 0.4
output = 1.2
cache_read = 0.04
""")  # fmt: skip
    pricer = Pricer(load_overrides(path))
    e = event("qwen3.5-plus", input_tokens=1_000_000, output_tokens=1_000_000,
              cache_read_tokens=1_000_000)  # fmt: skip
    pricer.price(e)
    assert e.cost_nano == 400_000_000 + 1_200_000_000 + 40_000_000
    assert e.provider == "alibaba"
    assert e.cost_basis == CostBasis.COMPUTED


def test_free_local_models_by_glob(tmp_path: Path) -> None:
    path = write(tmp_path, '[[model]]\nmatch = "llama*"\nfree = true\n')
    pricer = Pricer(load_overrides(path))
    e = event("llama3.3:70b", input_tokens=5_000_000)
    pricer.price(e)
    assert e.cost_nano == 0
    assert e.cost_basis == CostBasis.COMPUTED


def test_negotiated_multiplier_on_catalog_rates(tmp_path: Path) -> None:
    path = write(tmp_path, '[[model]]\nmatch = "claude-opus-4-6"\nmultiplier = 0.8\n')
    pricer = Pricer(load_overrides(path))
    e = event("claude-opus-4-6", provider="anthropic", input_tokens=1_000_000)
    pricer.price(e)
    assert e.cost_nano == 4_000_000_000  # $5/MTok less 20 %


def test_local_provider_is_free_without_config() -> None:
    e = event("gpt-oss:20b", provider="local", input_tokens=1_000, output_tokens=1_000)
    Pricer().price(e)
    assert e.cost_nano == 0


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "absent.toml") == []


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ('[[model]]\nmatch = "x"\ninput = "cheap"\noutput = 1\n', 3, "input", "expected a number"),
        ('[[model]]\nmatch = "x"\ninput = -1\noutput = 1\n', 3, "input", "negative"),
        ('[[model]]\nmatch = "x"\nimput = 1\noutput = 1\n', 3, "imput", "unknown field"),
        ('[[model]]\nmatch = "a"\nfree = true\n\n[[model]]\nmatch = "b"\noutput = 2\n',
         5, "input", "required"),
        ('[[model]]\ninput = 1\n', 1, None, "model name or glob"),
        ('[[model]]\nmatch = "x"\nfree = "yes"\n', 3, "free", "true or false"),
        ('[[model]\nmatch = "x"\n', 1, None, "invalid TOML"),
    ],
)  # fmt: skip
def test_bad_config_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_overrides(path)
    error = caught.value
    assert error.path == path
    assert error.line == line
    assert error.field == field
    assert words in str(error)
    assert str(path) in str(error)


def test_every_ingest_prices_with_the_users_prices_toml(env: Env) -> None:
    """prices.toml is read by the ingest itself, so the API, the report commands, the MCP
    server and a SessionEnd hook's one-file ingest all price alike; a bad file stops the
    ingest before anything is read."""
    import datetime as dt
    import json

    from spendlane.demo import claude_assistant
    from spendlane.ingest import ingest_files
    from spendlane.sources.locations import CLAUDE_CODE

    when = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(claude_assistant(
        when=when, session_id="s", message_id="m1", request_id="r1", model="house-model",
        input_tokens=1_000_000,
    )) + "\n")  # fmt: skip
    (env.home / "prices.toml").write_text('[[model]]\nmatch = "house-*"\ninput = 2\noutput = 4\n')
    with env.ledger() as ledger:
        ingest_files(ledger, CLAUDE_CODE, [path])
        costs = ledger.connection.execute("SELECT cost_nano FROM events").fetchall()
    assert costs == [(2_000_000_000,)]  # $2 for a million input tokens, not unpriced

    (env.home / "prices.toml").write_text('[[model]]\nmatch = "x"\ninput = "cheap"\noutput = 1\n')
    path.write_text(path.read_text().replace('"m1"', '"m2"'))
    with env.ledger() as ledger, pytest.raises(ConfigError, match="field 'input'"):
        env.ingest(ledger)
