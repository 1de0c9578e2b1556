"""The ledger projection: rebuild == incremental, as-of folding, totals, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine

from projections.feed import catch_up, rebuild, view
from projections.ledger_view import LedgerFilter, read_ledger, totals
from tests.bootstrap import bootstrap
from tests.integration.ledger_history import RC, YB, history_steps, record_history
from tests.integration.projections_support import dump_engine


def test_ledger_rebuild_equals_incremental(engine: Engine) -> None:
    """Catching the ledger up after every step gives the same rows as one rebuild from the log."""
    for step in history_steps(bootstrap(engine)):
        step()
        catch_up(engine, ["ledger"], batch=3)
    incremental = dump_engine(engine, ["ledger"])
    result = rebuild(engine, names=["ledger"])
    assert dump_engine(engine, ["ledger"]) == incremental
    assert result.projections == {"ledger": 5}


def test_ledger_rows_statuses_and_totals(engine: Engine) -> None:
    """Final statuses and amounts of each entry, and the contract's totals, exactly."""
    record_history(bootstrap(engine))
    with view(engine, ["ledger"]) as conn:
        entries = read_ledger(conn, LedgerFilter())
    got = [
        (e.rule, e.enterprise, e.status, e.amount, e.ceiling, e.approved_amount, e.paid_amount)
        for e in entries
    ]
    assert got == [
        ("RC-27b", RC, "partly-paid", Decimal(200000), True, Decimal(150000), Decimal(100000)),
        ("YB-5a", YB, "paid", Decimal(100000), False, None, Decimal(100000)),
        ("RC-30", RC, "awaiting-approval", None, False, None, Decimal(0)),
        ("YB-7b", YB, "reversed", Decimal(1000000), False, None, Decimal(0)),
        ("YB-5c", YB, "accrued", Decimal(50000), False, None, Decimal(0)),
    ]
    assert "partly paid: 100000 of 150000 yuan" in entries[0].note
    assert entries[3].note.startswith("reversed: its trigger MilestoneRecorded")
    assert "pending-data" not in entries[4].note  # the resolution's note replaces the waiting one
    assert totals(entries) == {
        "fixed": Decimal(150000),
        "ceilings": Decimal(0),
        "approved": Decimal(150000),
        "paid": Decimal(200000),
        "recovery_due": Decimal(0),
    }


def test_ledger_as_of_folds_to_the_business_date(engine: Engine) -> None:
    """As of 2024-01-31 the RC-27b ceiling is approved not paid, YB-5c not accrued, YB-7b not reversed."""
    record_history(bootstrap(engine))
    with view(engine, ["ledger"]) as conn:
        entries = {e.rule: e for e in read_ledger(conn, LedgerFilter(as_of=date(2024, 1, 31)))}
        yubei_2023 = read_ledger(conn, LedgerFilter(district="yubei", year=2023))
        only_rc = read_ledger(conn, LedgerFilter(enterprise=RC))
    assert set(entries) == {"RC-27b", "YB-5a", "RC-30", "YB-7b"}
    assert (entries["RC-27b"].status, entries["RC-27b"].paid_amount) == ("approved", Decimal(0))
    assert (entries["YB-5a"].status, entries["YB-7b"].status) == ("accrued", "accrued")
    assert totals(entries.values())["ceilings"] == Decimal(0)
    assert [e.rule for e in yubei_2023] == ["YB-5a"]
    assert {e.rule for e in only_rc} == {"RC-27b", "RC-30"}


def test_activate_all_then_demo_gives_totals_per_district(db_url: str) -> None:
    """The demo's hooks: every policy activated, a generated history reacted to, totals per district."""
    from service_layer.bootstrap import open_services
    from service_layer.commands import reactor_of
    from service_layer.demo import generate
    from service_layer.policies import activate_all, ledger_totals_by_district

    services = open_services(db_url)
    try:
        assert all(r.activated for r in activate_all(services))
        assert not any(r.activated for r in activate_all(services))
        generate(services.store, 40, 7, reactor=reactor_of(services))
        by_district = ledger_totals_by_district(services.engine)
        with view(services.engine, ["ledger"]) as conn:
            entries = read_ledger(conn, LedgerFilter())
        assert sum(t["entries"] for t in by_district.values()) == len(entries) > 0
        assert set(by_district) <= {"yubei", "rongchang", "liangjiang", "jiangjin"}
        for district, sums in by_district.items():
            assert {k: sums[k] for k in ("fixed", "ceilings", "approved", "paid", "recovery_due")} == totals(
                e for e in entries if e.district == district
            )
    finally:
        services.close()
