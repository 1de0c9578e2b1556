"""One voucher, one payment (SQLite and PostgreSQL): a repeat writes nothing; a clash is exit 3."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine

from domain.errors import Conflict
from domain.policy.payouts import PayEntitlement
from events.db import make_engine
from events.migrate import ensure_schema
from service_layer.unit_of_work import decide_on_entitlement as decide
from tests.bootstrap import TODAY, Office, bootstrap
from tests.cli import invoke
from tests.integration.ledger_history import YB


def _yubei_award(engine: Engine) -> tuple[Office, str]:
    """A Yubei enterprise owed YB-5a (100,000 yuan, accrued 2023-01-10)."""
    ensure_schema(engine)
    o = bootstrap(engine)
    o.activate("yubei-2024")
    o.register(YB, "yubei", "medium", name="重庆渝北测试科技有限公司")
    o.record(YB, "innovative-sme.certified", "2022-01-05")
    o.record(YB, "srdi-municipal.certified", "2023-01-10", key="srdi")
    return o, o.entitlement("srdi", "YB-5a")


def _payments(o: Office) -> list[str]:
    return [e.event_id for e in o.store.read_stream(f"enterprise-{YB}") if e.event_type == "EntitlementPaid"]


def _pay(o: Office, key: str, amount: str, ref: str, on: str) -> PayEntitlement:
    return PayEntitlement(entitlement_id=key, amount=amount, ref=ref, on=date.fromisoformat(on))


def test_the_same_payment_again_writes_nothing_and_another_amount_or_date_conflicts(engine: Engine) -> None:
    """Same voucher, amount and date: no event, the first payment stands; other amount or date: Conflict."""
    o, key = _yubei_award(engine)
    first, record, _ = decide(o.store, YB, _pay(o, key, "40000", "V-1", "2024-05-01"), today=TODAY, actor="f")
    assert first is not None and record.status == "partly-paid"
    again, record, receipt = decide(
        o.store, YB, _pay(o, key, "40000", "V-1", "2024-05-01"), today=TODAY, actor="f"
    )
    assert (again, receipt, record.paid_amount) == (None, None, Decimal(40000))
    for amount, on in (("30000", "2024-05-01"), ("40000", "2024-05-02")):
        try:
            decide(o.store, YB, _pay(o, key, amount, "V-1", on), today=TODAY, actor="f")
        except Conflict as clash:
            assert "one voucher, one payment" in str(clash)
        else:  # pragma: no cover - the assertion below names the failure
            raise AssertionError(f"{amount} on {on} under V-1 was accepted")
    assert _payments(o) == [first.event_id]
    _, record, _ = decide(o.store, YB, _pay(o, key, "60000", "V-2", "2024-06-01"), today=TODAY, actor="f")
    assert (record.status, record.paid_amount) == ("paid", Decimal(100000))


def test_two_concurrent_payments_with_one_voucher_record_one(engine: Engine) -> None:
    """Two clerks pay the same voucher at once: one payment is recorded, both calls succeed."""
    o, key = _yubei_award(engine)
    command = _pay(o, key, "100000", "V-9", "2024-05-01")
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def clerk() -> None:
        try:
            barrier.wait()
            results.append(decide(o.store, YB, command, today=TODAY, actor="f", sleep=lambda _s: None)[1])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 2
    assert len(_payments(o)) == 1


def _cli(db_url: str, *args: str) -> tuple[int, str, str]:
    result = invoke(db_url, *args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_pay_cli_repeats_are_exit_0_clashes_exit_3_and_the_ledger_says_partly_paid(db_url: str) -> None:
    """`entitlement pay` again: exit 0 and the first payment; another amount: exit 3, one line."""
    engine = make_engine(db_url)
    _, key = _yubei_award(engine)
    engine.dispose()
    pay = ("entitlement", "pay", key, "--amount", "40000", "--ref", "V-1", "--on", "2024-05-01", "--json")
    code, out, _ = _cli(db_url, *pay)
    first = json.loads(out)
    assert (code, first["status"], first["repeated"]) == (0, "partly-paid", False)
    code, out, _ = _cli(db_url, *pay)
    again = json.loads(out)
    assert (code, again["repeated"], again["payment"]) == (0, True, first["payment"])
    code, out, err = _cli(
        db_url, "entitlement", "pay", key, "--amount", "1", "--ref", "V-1", "--on", "2024-05-01"
    )
    assert (code, out, len(err.strip().splitlines())) == (3, "", 1)
    code, out, _ = _cli(db_url, "ledger", "--json")
    ledger = json.loads(out)
    (entry,) = [e for e in ledger["entries"] if e["id"] == key]
    assert (entry["status"], entry["paid_amount"]) == ("partly-paid", 40000)
    assert ledger["totals"]["paid"] == 40000 and ledger["totals"]["fixed"] == 100000
    code, out, _ = _cli(db_url, "ledger", "--as-of", "2024-04-30", "--json")
    (before,) = [e for e in json.loads(out)["entries"] if e["id"] == key]
    assert (before["status"], before["paid_amount"]) == ("accrued", 0)
