"""The daily report: local days in any zone, DST and month ends, ccusage's JSON shape."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import Env

from spendlane.events import UsageEvent
from spendlane.ledger import SqliteLedger
from spendlane.pricing import Pricer
from spendlane.reports.calendar import CostMode, Period, daily_report
from spendlane.reports.render_json import daily_json

PRICER = Pricer()


def store(ledger: SqliteLedger, *events: UsageEvent) -> None:
    for e in events:
        PRICER.price(e)
    ledger.insert_events(list(events))


def call(when: dt.datetime, key: str, model: str = "claude-sonnet-4-5-20250929",
         source: str = "claude_code", **tokens: int) -> UsageEvent:  # fmt: skip
    provider = "anthropic" if model.startswith("claude") else "openai"
    return UsageEvent(key=key, ts_ms=int(when.timestamp() * 1000), source=source,
                      provider=provider, model=model, **tokens)  # fmt: skip


def test_days_follow_the_report_zone(env: Env) -> None:
    # 23:30 UTC on Nov 20 is Nov 21 in Berlin and Nov 20 in New York.
    late = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    with env.ledger() as ledger:
        store(ledger, call(late, "a", output_tokens=10))
        berlin = daily_report(ledger, zone=ZoneInfo("Europe/Berlin"))
        new_york = daily_report(ledger, zone=ZoneInfo("America/New_York"))
        kathmandu = daily_report(ledger, zone=ZoneInfo("Asia/Kathmandu"))  # UTC+5:45
    assert [d.date for d in berlin.days] == [dt.date(2026, 11, 21)]
    assert [d.date for d in new_york.days] == [dt.date(2026, 11, 20)]
    assert [d.date for d in kathmandu.days] == [dt.date(2026, 11, 21)]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Berlin leaves summer time on 2026-10-25 at 01:00 UTC: that day has 25 hours.
        (dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC), dt.date(2026, 10, 25)),
        (dt.datetime(2026, 10, 24, 21, 59, tzinfo=dt.UTC), dt.date(2026, 10, 24)),
        (dt.datetime(2026, 10, 25, 22, 59, tzinfo=dt.UTC), dt.date(2026, 10, 25)),
        (dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC), dt.date(2026, 10, 26)),
        # and enters it on 2026-03-29: a 23-hour day.
        (dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC), dt.date(2026, 3, 29)),
        (dt.datetime(2026, 3, 29, 21, 59, tzinfo=dt.UTC), dt.date(2026, 3, 29)),
        (dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC), dt.date(2026, 3, 30)),
    ],
)
def test_dst_days_have_the_right_edges(env: Env, utc: dt.datetime, expected: dt.date) -> None:
    with env.ledger() as ledger:
        store(ledger, call(utc, "a", output_tokens=1))
        report = daily_report(ledger, zone=ZoneInfo("Europe/Berlin"))
    assert [d.date for d in report.days] == [expected]


def test_since_until_inclusive_across_a_month_end(env: Env) -> None:
    zone = ZoneInfo("America/Los_Angeles")
    days = [dt.datetime(2026, 10, 30, 12, tzinfo=zone) + dt.timedelta(days=i) for i in range(4)]
    with env.ledger() as ledger:
        store(ledger, *(call(d, f"k{i}", output_tokens=i + 1) for i, d in enumerate(days)))
        report = daily_report(ledger, zone=zone, since=dt.date(2026, 10, 31),
                              until=dt.date(2026, 11, 1))  # fmt: skip
    assert [(d.date, d.total.output_tokens) for d in report.days] == [
        (dt.date(2026, 10, 31), 2),
        (dt.date(2026, 11, 1), 3),
    ]
    assert report.total.output_tokens == 5


def test_json_has_ccusage_shape_and_exact_totals(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with env.ledger() as ledger:
        store(
            ledger,
            call(when, "a", input_tokens=1000, output_tokens=500, cache_write_5m_tokens=200,
                 cache_write_1h_tokens=100, cache_read_tokens=10_000),
            call(when, "b", model="gpt-5-codex", source="codex", input_tokens=400,
                 cache_read_tokens=600, output_tokens=50),
        )  # fmt: skip
        out = daily_json(daily_report(ledger, zone=dt.UTC))
    assert set(out) == {"daily", "totals"}
    day = out["daily"][0]
    assert list(day) == ["date", "inputTokens", "outputTokens", "cacheCreationTokens",
                         "cacheReadTokens", "totalTokens", "totalCost", "modelsUsed",
                         "modelBreakdowns"]  # fmt: skip
    assert day["date"] == "2026-11-20"
    assert day["inputTokens"] == 1400
    assert day["cacheCreationTokens"] == 300
    assert day["cacheReadTokens"] == 10_600
    assert day["totalTokens"] == 1400 + 550 + 300 + 10_600
    sonnet = 1000 * 3000 + 500 * 15_000 + 200 * 3750 + 100 * 6000 + 10_000 * 300
    codex = 400 * 1250 + 600 * 125 + 50 * 10_000
    assert day["totalCost"] == pytest.approx((sonnet + codex) / 1e9, abs=1e-12)
    assert day["modelsUsed"] == ["claude-sonnet-4-5-20250929", "gpt-5-codex"]
    assert [b["modelName"] for b in day["modelBreakdowns"]] == day["modelsUsed"]
    assert set(day["modelBreakdowns"][0]) == {
        "modelName",
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "cost",
    }
    assert out["totals"]["totalTokens"] == day["totalTokens"]
    assert "unpriced" not in out


def test_unpriced_models_listed_in_json_and_not_costed(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with env.ledger() as ledger:
        store(ledger, call(when, "a", model="mystery-1", input_tokens=7, output_tokens=3),
              call(when, "b", output_tokens=1_000_000))  # fmt: skip
        out = daily_json(daily_report(ledger, zone=dt.UTC))
    assert out["unpriced"] == [
        {
            "model": "mystery-1",
            "provider": "openai",
            "source": "claude_code",
            "events": 1,
            "totalTokens": 10,
        }
    ]
    assert out["totals"]["totalCost"] == 15.0


def test_cost_modes(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    reported = call(when, "a", output_tokens=1_000_000)  # computed: $15
    reported.reported_cost_nano = 2_000_000_000
    plain = call(when, "b", output_tokens=1_000_000)
    with env.ledger() as ledger:
        store(ledger, reported, plain)
        costs = {m: daily_report(ledger, zone=dt.UTC, cost_mode=m).total.cost_nano
                 for m in CostMode}  # fmt: skip
    assert costs == {
        CostMode.AUTO: 17_000_000_000,
        CostMode.CALCULATE: 30_000_000_000,
        CostMode.DISPLAY: 2_000_000_000,
    }


def test_source_filter_and_empty_range(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with env.ledger() as ledger:
        store(
            ledger,
            call(when, "a", output_tokens=5),
            call(when, "b", model="gpt-5-codex", source="codex", output_tokens=7),
        )
        only_codex = daily_report(ledger, zone=dt.UTC, sources=["codex"])
        empty = daily_report(ledger, zone=dt.UTC, since=dt.date(2027, 1, 1))
    assert only_codex.total.output_tokens == 7
    assert empty.days == [] and empty.total.events == 0


def test_weeks_start_on_the_chosen_day_in_the_report_zone(env: Env) -> None:
    # Sunday 2026-11-22 23:30 in New York is Monday 04:30 UTC.
    when = dt.datetime(2026, 11, 22, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    with env.ledger() as ledger:
        store(ledger, call(when, "a", output_tokens=1))
        monday = daily_report(ledger, zone=ZoneInfo("America/New_York"), period=Period.WEEK)
        sunday = daily_report(ledger, zone=ZoneInfo("America/New_York"), period=Period.WEEK,
                              week_start=6)  # fmt: skip
        utc = daily_report(ledger, zone=dt.UTC, period=Period.WEEK)
    assert [d.date for d in monday.days] == [dt.date(2026, 11, 16)]
    assert [d.date for d in sunday.days] == [dt.date(2026, 11, 22)]
    assert [d.date for d in utc.days] == [dt.date(2026, 11, 23)]
    assert daily_json(sunday)["weekly"][0]["week"] == "2026-11-22"


def test_months_across_a_month_end_and_dst(env: Env) -> None:
    zone = ZoneInfo("Europe/Berlin")
    calls = [
        call(dt.datetime(2026, 10, 31, 22, 59, tzinfo=dt.UTC), "oct", output_tokens=1),  # 23:59
        call(dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC), "nov", output_tokens=2),  # 00:00
        call(dt.datetime(2026, 3, 31, 21, 59, tzinfo=dt.UTC), "mar", output_tokens=4),  # 23:59
    ]
    with env.ledger() as ledger:
        store(ledger, *calls)
        report = daily_report(ledger, zone=zone, period=Period.MONTH, order_desc=True)
    out = daily_json(report)
    assert [(m["month"], m["outputTokens"]) for m in out["monthly"]] == [
        ("2026-11", 2), ("2026-10", 1), ("2026-03", 4),
    ]  # fmt: skip
