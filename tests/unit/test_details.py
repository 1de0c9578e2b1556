"""Enterprise details as dated events: the fold, the command's refusals and what the rules read."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import ChangeEnterpriseDetails, RegisterEnterprise
from domain.details import FIELDS, DetailsChange, DetailsHistory, change_of
from domain.enterprise import Enterprise, take_details
from domain.errors import InvalidInput
from service_layer.unit_of_work import CommandResult
from tests.bootstrap import Office, bootstrap, uscc

A = uscc(801)
B = uscc(802)


def _history(*changes: tuple[str, str, dict[str, str]]) -> DetailsHistory:
    history = DetailsHistory()
    for event_id, on, fields in changes:
        history = history.with_change(DetailsChange(event_id, date.fromisoformat(on), tuple(fields.items())))
    return history


def test_details_in_force_follow_the_dates_not_the_recording_order() -> None:
    """A change recorded later but dated earlier applies from its own date; the latest date wins."""
    h = _history(
        ("reg", "2021-01-01", {"name": "甲", "district": "yubei", "size": "small"}),
        ("b", "2024-01-01", {"size": "medium"}),
        ("a", "2023-01-01", {"size": "micro"}),
    )
    assert h.on(date(2022, 6, 1)).size == "small"
    assert h.on(date(2023, 6, 1)).size == "micro"
    assert h.on(date(2024, 1, 1)).size == "medium"
    assert h.current.size == "medium" and h.current.district == "yubei"


def test_a_first_stated_value_stands_for_the_days_before_it() -> None:
    """A size never stated before is unknown, not absent: its first value also holds earlier."""
    h = _history(
        ("reg", "2021-01-01", {"name": "甲", "district": "yubei"}), ("s", "2025-01-01", {"size": "small"})
    )
    assert h.on(date(2023, 3, 1)).size == "small"
    assert (
        _history(("reg", "2021-01-01", {"name": "甲", "district": "yubei"})).on(date(2023, 3, 1)).size is None
    )


def test_a_retracted_change_is_as_if_never_recorded() -> None:
    """`without` drops one change and the details fall back to what was in force before it."""
    h = _history(("reg", "2021-01-01", {"district": "yubei"}), ("m", "2024-01-01", {"district": "jiangjin"}))
    assert h.current.district == "jiangjin"
    assert h.without("m").current.district == "yubei"


def test_the_command_needs_at_least_one_detail() -> None:
    """`enterprise update` without --name/--size/--department/--district is refused in one line."""
    with pytest.raises(InvalidInput, match="at least one detail"):
        ChangeEnterpriseDetails(uscc=A, on=date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="--size 'large' is unknown"):
        ChangeEnterpriseDetails(uscc=A, on=date(2024, 1, 1), size="large")


def _register(desk: Office, who: str, district: str, size: str | None) -> None:
    desk.run(RegisterEnterprise(uscc=who, name="甲", district=district, size=size, on=date(2021, 1, 1)))


def _update(desk: Office, on: str, **fields: str) -> CommandResult:
    return desk.run(ChangeEnterpriseDetails(uscc=A, on=date.fromisoformat(on), **fields))


def _srdi_of_unknown_size() -> Office:
    """A Yubei office where A, its size not given, became srdi-municipal in 2023 (YB-8 waits for it)."""
    desk = bootstrap()
    desk.activate("yubei-2024")
    _register(desk, A, "yubei", None)
    desk.climb(A, ("innovative-sme.certified", "2022-06-01"), ("srdi-municipal.certified", "2023-03-01"))
    return desk


def test_no_change_future_and_before_registration_are_refused_and_nothing_written() -> None:
    """The same details again, a date after today, or before the registration: exit-2 refusals."""
    desk = bootstrap()
    _register(desk, A, "yubei", "small")
    desk.refused(lambda: _update(desk, "2026-01-01", size="small"), "nothing changes")
    desk.refused(lambda: _update(desk, "2027-01-01", size="medium"), "after today")
    desk.refused(lambda: _update(desk, "2020-01-01", size="medium"), "before the enterprise's registration")
    desk.refused(
        lambda: desk.run(ChangeEnterpriseDetails(uscc=B, on=desk.today, size="small")), "no enterprise"
    )


def test_only_the_fields_that_change_are_stored() -> None:
    """Given name unchanged and size changed, the event carries the size alone; the fold shows it."""
    desk = bootstrap()
    _register(desk, A, "yubei", "small")
    result = _update(desk, "2026-10-01", name="甲", size="medium", department="区经信委")
    data = result.events[0].event.payload()
    assert (data["name"], data["size"], data["department"]) == (None, "medium", "区经信委")
    ent = desk.load(A)
    assert (ent.size, ent.department) == ("medium", "区经信委")
    assert ent.details_on(date(2026, 9, 30)).size == "small"


def test_yb8_pending_for_a_missing_size_is_decided_when_the_size_arrives() -> None:
    """YB-8 waits (pending-data) for an unknown size; `enterprise update --size small` decides it."""
    desk = _srdi_of_unknown_size()
    assert desk.one(A, "YB-8").status == "pending-data"
    result = _update(desk, "2026-10-01", size="small")
    assert [r.rule for r in result.entitlements()] == ["YB-8"]
    assert desk.one(A, "YB-8").status == "awaiting-approval"


def test_yb8_reads_the_size_in_force_on_its_date() -> None:
    """Medium since 2021 but small from 2025: YB-8 (2022–2024) reads medium and is not owed."""
    desk = bootstrap()
    desk.activate("yubei-2024")
    _register(desk, B, "yubei", None)
    desk.run(ChangeEnterpriseDetails(uscc=B, on=date(2021, 1, 1), size="medium"))
    desk.record(B, "innovative-sme.certified", "2022-06-01")
    desk.record(B, "srdi-municipal.certified", "2023-03-01")
    assert desk.entitlements(B, "YB-8") == []
    assert [r.rule for r in desk.entitlements(B)] == ["YB-5a"]


def test_a_pending_size_decided_medium_is_not_eligible() -> None:
    """The size that arrives is medium: the waiting YB-8 entitlement is closed, not owed."""
    desk = _srdi_of_unknown_size()
    _update(desk, "2026-10-01", size="medium")
    assert (desk.one(A, "YB-8").decided, desk.one(A, "YB-8").status) == ("not-eligible", "reversed")


def test_a_rule_reads_the_district_in_force_on_its_trigger_date() -> None:
    """Moved from yubei to jiangjin in 2024: a 2025 certification is not a Yubei award."""
    desk = bootstrap()
    desk.activate("yubei-2024")
    _register(desk, A, "yubei", "medium")
    desk.record(A, "innovative-sme.certified", "2022-06-01")
    desk.record(A, "srdi-municipal.certified", "2023-03-01")
    assert [r.rule for r in desk.entitlements(A)] == ["YB-5a"]
    _update(desk, "2024-01-01", district="jiangjin")
    desk.record(A, "little-giant.certified", "2025-03-01")
    assert [r.rule for r in desk.entitlements(A)] == ["YB-5a"]
    created = desk.one(A, "YB-5a").created
    assert created["district"] == "yubei"


@given(
    stated=st.lists(
        st.dictionaries(st.sampled_from(FIELDS), st.one_of(st.none(), st.text(max_size=3))),
        min_size=1,
        max_size=3,
    )
)
def test_the_details_taken_are_the_current_details(stated: list[dict[str, str | None]]) -> None:
    """A registration alone (read straight from its fields) and any later changes: the details an
    enterprise shows are the history's current ones, and each change keeps its place in the log."""
    holder = Enterprise()
    for n, data in enumerate(stated):
        take_details(holder, f"e{n}", date(2020 + n, 1, 1), data)
        now = holder.details.current
        shown = (holder.name, holder.district, holder.department, holder.size, holder.industry)
        assert shown == (now.name, now.district, now.department, now.size, now.industry)
        assert [c.seq for c in holder.details.changes] == list(range(n + 1))
        assert holder.details.changes[-1] == DetailsChange(
            f"e{n}", date(2020 + n, 1, 1), change_of(f"e{n}", date(2020 + n, 1, 1), data).fields, n
        )
