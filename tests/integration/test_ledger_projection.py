"""The ledger projection: rebuild == incremental (stream by stream, or in log order when a log strays),
as-of folding, totals, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from events.envelope import NewEvent
from events.schemas import EntitlementApproved, EntitlementCreated, FacilityClosed, FacilityEstablished
from events.sql_store import SqlEventStore
from projections import feed, registry
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


def _created(key: str, uscc: str) -> NewEvent:
    return NewEvent(
        EntitlementCreated(
            entitlement_id=key, amount=Decimal(100), ceiling=False, trigger_event_id="t",
            accrued_on=date(2024, 1, 2), policy="p", rule="R-1", article="1", kind="subsidy", uscc=uscc,
            district="yubei", status="accrued",
        ),
        date(2024, 1, 2),
    )  # fmt: skip


def _approved(key: str) -> NewEvent:
    return NewEvent(EntitlementApproved(entitlement_id=key, amount=Decimal(60)), date(2024, 2, 1))


def _facility(action: str, on: date) -> NewEvent:
    if action == "established":
        return NewEvent(
            FacilityEstablished(facility_id="F1", kind="incubator", name="孵化器", district="yubei"), on
        )
    return NewEvent(FacilityClosed(facility_id="F1", reason="merged"), on)


# Logs the handlers never write, where reading stream by stream would meet a subject's events in
# another order than the log's: a rebuild must give what the log order gives, as a catch-up does.
STRAYS: dict[str, list[tuple[str, list[NewEvent]]]] = {
    "an approval before its creation": [("enterprise-A", [_approved("E1"), _created("E1", "A")])],
    "an approval in a later stream, recorded before the creation": [
        ("enterprise-B", [_approved("E1")]),
        ("enterprise-A", [_created("E1", "A")]),
    ],
    "an approval in an earlier stream, recorded after the creation": [
        ("enterprise-B", [_created("E1", "B")]),
        ("enterprise-A", [_approved("E1")]),
    ],
    "created in two streams, the later read first": [
        ("enterprise-B", [_created("E1", "B"), _approved("E1")]),
        ("enterprise-A", [_created("E1", "A")]),
    ],
    "a facility closed in another stream and established again": [
        ("facility-F1", [_facility("established", date(2023, 1, 1))]),
        ("facility-F2", [_facility("closed", date(2024, 1, 1))]),
        ("facility-F1", [_facility("established", date(2025, 1, 1))]),
    ],
}


@pytest.mark.parametrize("case", list(STRAYS))
@pytest.mark.parametrize("chunk", [1, 1000])
@pytest.mark.parametrize("live", ["built", "emptied"])
def test_a_subject_outside_its_stream_makes_the_rebuild_give_what_the_log_order_gives(
    engine: Engine, case: str, chunk: int, live: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger and facilities are built stream by stream; a log where a subject's events do not
    all lie after its one creation, in its stream, is rebuilt in log order instead (tested with the
    streams written one chunk at a time, and all together; over the views as they were, and over
    emptied ones, which the rebuild fills from its copies whole)."""
    store = SqlEventStore(engine)
    for stream, events in STRAYS[case]:
        store.append(stream, events, None)
    store.append("enterprise-C", [_created("E2", "C"), _approved("E2")], None)  # one that is whole
    catch_up(engine, ["ledger", "facilities"])
    incremental = dump_engine(engine, ["ledger", "facilities"])
    assert any(incremental.values())
    if live == "emptied":
        with engine.begin() as conn:
            for projection in registry.select(["ledger", "facilities"]):
                projection.reset(conn)
    monkeypatch.setattr(feed, "WRITE_CHUNK", chunk)
    rebuild(engine, names=["ledger", "facilities"])
    assert dump_engine(engine, ["ledger", "facilities"]) == incremental


def test_the_whole_log_read_stream_by_stream_gives_the_rows_of_the_log_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a log the handlers wrote, the stream-by-stream build is taken (no log-order pass) and
    gives the rows a catch-up in log order gives."""
    for step in history_steps(bootstrap(engine)):
        step()
    catch_up(engine, batch=3)
    incremental = dump_engine(engine)
    walked: list[int] = []
    monkeypatch.setattr(feed, "_fill_by_position", lambda *args: walked.append(1))
    rebuild(engine)
    assert walked == [] and dump_engine(engine) == incremental
