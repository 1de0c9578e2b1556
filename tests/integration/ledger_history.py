"""A small history with every kind of entitlement event, recorded through the office (the handlers).

Yubei and Rongchang enterprises whose milestones and reports trigger accrued, ceiling, unstated and
pending-data entitlements, a resolution, an approval, payments and a reversal by retraction. Each
step is a callable so a test can catch the projections up between steps (incremental) and compare
with a rebuild; the commands a test refers to are kept under a key (``office.entitlement(key, rule)``).
"""

from __future__ import annotations

from collections.abc import Callable

from domain.uscc import make_uscc
from tests.bootstrap import Office

YB, RC = make_uscc("91500112MA5UL0001"), make_uscc("91500153MA5UL0002")


def history_steps(o: Office) -> list[Callable[[], object]]:
    """The steps of the sample history (run them in order)."""

    def activate_both() -> None:
        o.activate("yubei-2024")
        o.activate("rongchang-2022")

    def yubei() -> None:
        o.register(YB, "yubei", "medium", name="重庆渝北测试科技有限公司")
        o.record(YB, "innovative-sme.certified", "2022-01-05")
        o.record(YB, "srdi-municipal.certified", "2023-01-10", key="srdi")
        o.financials(YB, 2023, 100)
        o.financials(YB, 2024, 110)
        o.record(YB, "listing.neeq-filed", "2024-01-05", key="filed")
        o.record(YB, "srdi-municipal.review-passed", "2026-01-10", key="review")

    def resolve() -> None:
        o.financials(YB, 2025, 122, on="2026-04-01", key="fin2025")

    def rongchang() -> None:
        o.register(RC, "rongchang", "small", name="重庆荣昌测试科技有限公司")
        o.record(RC, "innovative-sme.certified", "2021-05-01")
        o.record(RC, "srdi-municipal.certified", "2022-08-01", key="rc27b")
        o.record(RC, "listing.otc-listed", "2023-03-01", key="otc")

    def decisions() -> None:
        ceiling = o.entitlement("rc27b", "RC-27b")
        o.approve(RC, ceiling, "150000", on="2024-01-10")
        o.pay(RC, ceiling, "100000", on="2024-02-01", ref="荣财1")
        o.pay(YB, o.entitlement("srdi", "YB-5a"), "100000", on="2024-05-01", ref="渝财1")

    def retract() -> None:
        o.retract(o.results["filed"].event_id, on="2026-05-01")

    return [activate_both, yubei, resolve, rongchang, decisions, retract]


def record_history(office: Office) -> Office:
    """The whole sample history, recorded."""
    for step in history_steps(office):
        step()
    return office
