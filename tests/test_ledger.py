"""The ledger itself: schema versions, the write path's bookkeeping, remembered prices."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import Env

from spendlane.demo import claude_assistant, write_jsonl
from spendlane.events import UsageEvent
from spendlane.ledger import LedgerError, SqliteLedger
from spendlane.ledger.migrations import MIGRATIONS
from spendlane.ledger.rows import Rollup, Row
from spendlane.ledger.sqlite import _statements

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def test_new_ledger_is_at_the_latest_version(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.db") as ledger:
        assert ledger.connection.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert ledger.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_older_ledger_is_migrated_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("INSERT INTO contexts (id) VALUES (1)")
    db.execute("INSERT INTO events (id, ts_ms, source, provider, model, output_tokens, "
               "context_id) VALUES (7, 0, 's', 'p', 'm', 42, 1)")  # fmt: skip
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        version = ledger.connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in ledger.connection.execute("SELECT name FROM sqlite_master")}
        kept = ledger.connection.execute("SELECT output_tokens FROM events").fetchall()
    assert version == len(MIGRATIONS)
    assert "price_cache" in tables
    assert kept == [(42,)]


def test_version_3_ledger_gets_a_rollup_by_context_equal_to_its_events(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:3]:
        for statement in _statements(migration):
            db.execute(statement)
    db.executemany("INSERT INTO contexts (id, session_id) VALUES (?, ?)", [(1, "a"), (2, "b")])
    db.executemany(
        "INSERT INTO events (id, ts_ms, source, provider, model, output_tokens, cost_nano, "
        "reported_cost_nano, flags, context_id) VALUES (?, ?, 's', 'p', 'm', ?, ?, ?, ?, ?)",
        [(1, 1_000, 10, 5, None, 0, 1), (2, 899_999, 20, None, 7, 2, 1),
         (3, 900_000, 30, 9, None, 0, 1), (4, 2_000, 40, 11, None, 0, 2)],
    )  # fmt: skip
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        cells = ledger.connection.execute(
            "SELECT bucket, context_id, events, output_tokens, cost_nano, reported_cost_nano, "
            "auto_cost_nano, unpriced_events, estimated_events, first_ms, last_ms "
            "FROM rollup_15m ORDER BY 1, 2"
        ).fetchall()
    assert cells == [
        (0, 1, 2, 30, 5, 7, 12, 1, 1, 1_000, 899_999),
        (0, 2, 1, 40, 11, 0, 11, 0, 0, 2_000, 2_000),
        (1, 1, 1, 30, 9, 0, 9, 0, 0, 900_000, 900_000),
    ]


def test_version_6_ledger_keeps_its_plan_readings_and_names_subagent_types(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:6]:
        for statement in _statements(migration):
            db.execute(statement)
    db.execute("INSERT INTO quota_readings VALUES ('statusline', 5, 'five_hour', 42.5, 300, 9, "
               "'s')")  # fmt: skip
    db.executemany("INSERT INTO contexts (id, agent_id) VALUES (?, ?)", [(1, None), (2, "a1")])
    db.executemany("INSERT INTO events (id, ts_ms, source, provider, model, context_id) "
                   "VALUES (?, 0, 's', 'p', 'm', ?)", [(1, 1), (2, 2)])  # fmt: skip
    db.execute("PRAGMA user_version = 6")
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        db2 = ledger.connection
        readings = db2.execute("SELECT source, root, window, ts_ms, used_percent, "
                               "window_minutes, resets_at_ms, session_id "
                               "FROM quota_readings").fetchall()  # fmt: skip
        before = db2.execute("SELECT agent FROM event_rows ORDER BY id").fetchall()
        with ledger.write() as w:
            w.execute("INSERT INTO agent_types VALUES ('a1', 'Explore', 1)")
        after = db2.execute("SELECT agent FROM event_rows ORDER BY id").fetchall()
        check = db2.execute("PRAGMA integrity_check").fetchone()
    assert readings == [("statusline", "", "five_hour", 5, 42.5, 300, 9, "s")]
    assert before == [(None,), ("subagent",)]
    assert after == [(None,), ("Explore",)]
    assert check == ("ok",)


def test_version_8_ledger_keeps_every_event_and_still_refuses_a_second_copy(
    tmp_path: Path,
) -> None:
    """v9 moves the key hash off the table's rowid into a unique index: every column of
    every event survives, and the key still admits one row per call."""
    path = tmp_path / "l.db"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:8]:
        for statement in _statements(migration):
            db.execute(statement)
    db.execute("INSERT INTO contexts (id, session_id) VALUES (1, 's')")
    stored = [
        (-(2**62), 900, "s", "p", "m", 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, "fast", 1, 3),
        (2**62, 100, "s", "p", "m", 0, 0, 0, 0, 0, 0, 0, None, None, 0, None, 1, None),
    ]
    db.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 18)})", stored)
    db.execute("PRAGMA user_version = 8")
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        db2 = ledger.connection
        kept = db2.execute("SELECT * FROM events ORDER BY id").fetchall()
        viewed = db2.execute("SELECT id, session_id FROM event_rows ORDER BY id").fetchall()
        with pytest.raises(sqlite3.IntegrityError), ledger.write() as w:
            w.execute("INSERT INTO events (id, ts_ms, source, provider, model, context_id) "
                      "VALUES (?, 5, 's', 'p', 'm', 1)", (2**62,))  # fmt: skip
        plan = db2.execute("EXPLAIN QUERY PLAN SELECT * FROM events WHERE id = 1").fetchall()
        check = db2.execute("PRAGMA integrity_check").fetchone()
    assert kept == stored
    assert viewed == [(-(2**62), "s"), (2**62, "s")]
    assert "events_id" in str(plan)
    assert check == ("ok",)


def test_newer_ledger_is_refused_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer than this spendlane"):
        SqliteLedger(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError, match=str(path)):
        SqliteLedger(path)


def event(key: str, output: int, sidechain: bool = False) -> UsageEvent:
    return UsageEvent(key=key, ts_ms=1_790_000_000_000, source="claude_code",
                      provider="anthropic", model="claude-opus-4-6", output_tokens=output,
                      cost_nano=output * 25_000, is_sidechain=sidechain)  # fmt: skip


def sums(ledger: SqliteLedger) -> tuple[tuple[object, ...], tuple[object, ...]]:
    db = ledger.connection
    from_events = db.execute("SELECT COUNT(*), SUM(output_tokens), SUM(cost_nano) FROM events")
    from_rollup = db.execute("SELECT SUM(events), SUM(output_tokens), SUM(cost_nano) "
                             "FROM rollup_15m")  # fmt: skip
    return from_events.fetchone(), from_rollup.fetchone()


def test_rollup_follows_inserts_and_replacements(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.db") as ledger:
        first = ledger.insert_events([event("a", 10), event("b", 5, sidechain=True)])
        again = ledger.insert_events([event("a", 300), event("a", 20), event("b", 5)])
        same = ledger.insert_events([event("a", 300)])
        events, rollup = sums(ledger)
        flags = ledger.connection.execute("SELECT is_sidechain FROM event_rows "
                                          "WHERE output_tokens = 5").fetchall()  # fmt: skip
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.replaced, again.duplicates) == (0, 2, 3)
    assert (same.inserted, same.replaced, same.duplicates) == (0, 0, 1)
    assert events == rollup == (2, 305, 305 * 25_000)
    assert flags == [(0,)]  # the main-thread copy replaced the sidechain one


def test_remembered_prices_spare_the_catalog(env: Env) -> None:
    path = env.session_file()
    write_jsonl(path, [claude_assistant(when=T0, session_id="s", message_id="m1",
                                        request_id="r", output_tokens=1000)])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
        remembered = ledger.connection.execute("SELECT model, card IS NOT NULL "
                                               "FROM price_cache").fetchall()  # fmt: skip
    assert remembered == [("claude-sonnet-4-5-20250929", 1)]
    write_jsonl(
        path,
        [
            claude_assistant(
                when=T0 + dt.timedelta(days=3),
                session_id="s",
                message_id="m2",
                request_id="r",
                output_tokens=2000,
            )
        ],
    )
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from spendlane.ingest import ingest
        from spendlane.ledger import SqliteLedger
        with SqliteLedger(Path({str(env.ledger_path)!r})) as ledger:
            report = ingest(ledger, roots={{"claude_code": [Path({str(env.claude)!r})],
                                            "codex": [Path({str(env.codex)!r})]}})
            cost = ledger.connection.execute("SELECT SUM(cost_nano) FROM events").fetchone()[0]
        print(report.new_events, cost, "genai_prices" in sys.modules)
    """)  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["1", str(3000 * 15_000), "False"]


def test_two_connections_taking_turns_never_double_insert(tmp_path: Path) -> None:
    """A connection that filled an empty ledger skips lookups only until another writes."""
    path = tmp_path / "l.db"
    with SqliteLedger(path) as one, SqliteLedger(path) as two:
        assert one.insert_events([event("a", 10)]).inserted == 1
        assert two.insert_events([event("b", 20)]).inserted == 1
        again = one.insert_events([event("b", 30), event("c", 5)])  # b was written by `two`
        assert (again.inserted, again.replaced) == (1, 1)
        events, rollup = sums(one)
    assert events == rollup == (3, 45, 45 * 25_000)


_COST = st.none() | st.integers(-(10**15), 10**15)
_ROW = st.tuples(
    st.integers(0, 2**62), st.integers(0, 3 * 900_000), st.sampled_from(["a", "b"]),
    st.just("anthropic"), st.sampled_from(["m1", "m2"]), *[st.integers(0, 10**10)] * 7,
    _COST, _COST, st.integers(0, 3), st.none(), st.sampled_from([1, 2]),
)  # fmt: skip
_ROWS = st.lists(_ROW, max_size=40)


@given(before=_ROWS, rows=_ROWS)
def test_adding_many_rows_at_once_sums_as_adding_each(before: list[Row], rows: list[Row]) -> None:
    # The bulk path a first import takes must give the cells `add` gives, taken-away rows
    # (cells whose first and last call are still unknown) included.
    one_by_one, at_once = Rollup(), Rollup()
    for rollup in (one_by_one, at_once):
        for row in before:
            rollup.add(row, -1)
    for row in rows:
        one_by_one.add(row)
    at_once.add_rows(rows)
    assert at_once.sums == one_by_one.sums


def test_absent_values_are_stored_as_null(env: Env) -> None:
    # None is bound through an adapter registered for speed (ledger/sqlite.py): it must still
    # store NULL, not a value a report could add up.
    write_jsonl(env.session_file(), [claude_assistant(when=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
                                                     session_id="s", message_id="m",
                                                     request_id="r", output_tokens=5)])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
        row = ledger.connection.execute(
            "SELECT reported_cost_nano IS NULL, speed IS NULL, typeof(reported_cost_nano) "
            "FROM events"
        ).fetchone()
        held = sqlite3.connect(":memory:").execute("SELECT typeof(?)", (None,)).fetchone()
    assert row == (1, 1, "null")
    assert held == ("null",)
