"""Cost equals genai-prices' own calc_price for each request, to the nano-dollar."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from spendlane.events import CostBasis, UsageEvent
from spendlane.money import usd_to_nano
from spendlane.pricing import Pricer
from spendlane.pricing.ratecard import round_half_even

MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-opus-4-1-20250805"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("anthropic", "claude-opus-4-6"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("openai", "gpt-5-codex"),
    ("openai", "gpt-5.2-codex"),
    ("deepseek", "deepseek-chat"),  # off-peak prices change within a day
    (None, "kimi-k2-thinking"),
]
PRICER = Pricer()


def genai_nano(event: UsageEvent, provider: str | None) -> int:
    cache_write = event.cache_write_5m_tokens + event.cache_write_1h_tokens
    usage = Usage(
        input_tokens=event.input_tokens + event.cache_read_tokens + cache_write,
        cache_read_tokens=event.cache_read_tokens,
        cache_write_tokens=cache_write,
        cache_write_5m_tokens=event.cache_write_5m_tokens,
        cache_write_1h_tokens=event.cache_write_1h_tokens,
        output_tokens=event.output_tokens,
    )
    result = calc_price(
        usage,
        event.model,
        provider_id=provider,
        genai_request_timestamp=dt.datetime.fromtimestamp(event.ts_ms / 1000, tz=dt.UTC),
        price_context={"speed": event.speed} if event.speed else None,
    )
    return int((result.total_price * 10**9).to_integral_value(ROUND_HALF_EVEN))


tokens = st.integers(min_value=0, max_value=400_000)


@settings(max_examples=400, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    ts_ms=st.integers(min_value=1_735_689_600_000, max_value=1_800_000_000_000),
    input_tokens=tokens,
    cache_read=tokens,
    cache_5m=st.integers(min_value=0, max_value=60_000),
    cache_1h=st.integers(min_value=0, max_value=60_000),
    output=st.integers(min_value=0, max_value=64_000),
    speed=st.sampled_from([None, "standard", "fast"]),
)
def test_cost_equals_genai_prices_to_the_nano_dollar(
    model: tuple[str | None, str],
    ts_ms: int,
    input_tokens: int,
    cache_read: int,
    cache_5m: int,
    cache_1h: int,
    output: int,
    speed: str | None,
) -> None:
    provider, name = model
    event = UsageEvent(
        key="k", ts_ms=ts_ms, source="test", provider=provider or "unknown", model=name,
        input_tokens=input_tokens, cache_read_tokens=cache_read, cache_write_5m_tokens=cache_5m,
        cache_write_1h_tokens=cache_1h, output_tokens=output, speed=speed,
    )  # fmt: skip
    PRICER.price(event)
    assert event.cost_basis == CostBasis.COMPUTED
    assert event.cost_nano == genai_nano(event, provider)


def test_long_context_tier_applies_to_the_whole_request() -> None:
    """Sonnet 4.5 above 200k input tokens (cache included): every token at the tier rate."""
    below = UsageEvent(
        key="a", ts_ms=1_790_000_000_000, source="t", provider="anthropic",
        model="claude-sonnet-4-5-20250929", input_tokens=5_000, cache_write_5m_tokens=20_000,
        cache_read_tokens=175_000, output_tokens=1_000,
    )  # fmt: skip
    above = UsageEvent(
        key="b", ts_ms=1_790_000_000_000, source="t", provider="anthropic",
        model="claude-sonnet-4-5-20250929", input_tokens=5_000, cache_write_5m_tokens=20_000,
        cache_read_tokens=175_001, output_tokens=1_000,
    )  # fmt: skip
    PRICER.price(below)
    PRICER.price(above)
    # $3 in, $3.75 write, $0.30 read, $15 out per MTok; above: $6, $7.50, $0.60, $22.50.
    assert below.cost_nano == 5_000 * 3_000 + 20_000 * 3_750 + 175_000 * 300 + 1_000 * 15_000
    assert above.cost_nano == 5_000 * 6_000 + 20_000 * 7_500 + 175_001 * 600 + 1_000 * 22_500


def test_one_hour_cache_writes_cost_more_than_five_minute_ones() -> None:
    five = UsageEvent(key="a", ts_ms=1_790_000_000_000, source="t", provider="anthropic",
                      model="claude-opus-4-6", cache_write_5m_tokens=1_000_000)  # fmt: skip
    hour = UsageEvent(key="b", ts_ms=1_790_000_000_000, source="t", provider="anthropic",
                      model="claude-opus-4-6", cache_write_1h_tokens=1_000_000)  # fmt: skip
    PRICER.price(five)
    PRICER.price(hour)
    assert five.cost_nano == 6_250_000_000
    assert hour.cost_nano == 10_000_000_000


def test_codex_cached_input_is_priced_at_the_cached_rate() -> None:
    event = UsageEvent(key="c", ts_ms=1_790_000_000_000, source="codex", provider="openai",
                       model="gpt-5-codex", input_tokens=1_000_000, cache_read_tokens=1_000_000,
                       output_tokens=1_000_000, reasoning_tokens=500_000)  # fmt: skip
    PRICER.price(event)
    assert event.cost_nano == 1_250_000_000 + 125_000_000 + 10_000_000_000


def test_unknown_model_is_unpriced_not_zero() -> None:
    event = UsageEvent(
        key="u",
        ts_ms=1_790_000_000_000,
        source="t",
        provider="unknown",
        model="qwen3.5-plus-imaginary",
        input_tokens=10,
        output_tokens=10,
    )
    PRICER.price(event)
    assert event.cost_nano is None
    assert event.cost_basis == CostBasis.UNPRICED


def test_model_via_claude_code_on_another_provider_finds_its_provider() -> None:
    event = UsageEvent(
        key="k",
        ts_ms=1_790_000_000_000,
        source="claude_code",
        provider="unknown",
        model="kimi-k2-thinking",
        input_tokens=1_000_000,
    )
    PRICER.price(event)
    assert event.provider == "moonshotai"
    assert event.cost_nano == 600_000_000


def test_estimated_model_is_marked() -> None:
    event = UsageEvent(
        key="e",
        ts_ms=1_790_000_000_000,
        source="codex",
        provider="openai",
        model="gpt-5-codex",
        model_estimated=True,
        output_tokens=1,
    )
    PRICER.price(event)
    assert event.cost_basis == CostBasis.ESTIMATED


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(1, 10**20))
def test_round_half_even_matches_decimal(numerator: int, denominator: int) -> None:
    with localcontext() as ctx:
        ctx.prec = 80
        expected = (Decimal(numerator) / Decimal(denominator)).to_integral_value(ROUND_HALF_EVEN)
    assert round_half_even(numerator, denominator) == int(expected)


@given(st.decimals(min_value=0, max_value=10**6, places=9, allow_nan=False))
def test_reported_dollars_convert_exactly(amount: Decimal) -> None:
    assert usd_to_nano(float(amount)) == int(
        (Decimal(repr(float(amount))) * 10**9).to_integral_value(ROUND_HALF_EVEN)
    )
    assert usd_to_nano(0.1) == 100_000_000
