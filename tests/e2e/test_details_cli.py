"""`srdi enterprise update` through the real script, on SQLite and PostgreSQL: details are dated facts."""

from __future__ import annotations

from tests.e2e.acceptance import Srdi, assert_rejection, future, uscc

U = uscc(71)


def test_update_decides_a_waiting_yb8_and_history_shows_the_change(db_url: str) -> None:
    """A size given later decides YB-8 (pending-data → awaiting-approval); history shows old → new."""
    s = Srdi(db_url)
    s.setup("policy", "activate", "yubei-2024", "--on", "2024-12-12")
    s.setup("enterprise", "add", U, "--name", "渝北测试", "--district", "yubei", "--on", "2021-01-01")
    s.setup("record", U, "innovative-sme.certified", "--on", "2022-06-01")
    s.setup("record", U, "srdi-municipal.certified", "--on", "2023-03-01")
    yb8 = [e for e in s.json("ledger")["entries"] if e["rule"] == "YB-8"]
    assert [e["status"] for e in yb8] == ["pending-data"]
    done = s.json(
        "enterprise", "update", U, "--on", "2025-01-01", "--size", "small", "--department", "区经信委"
    )
    assert [(e["rule"], e["status"]) for e in done["entitlements"]] == [("YB-8", "awaiting-approval")]
    assert s.entry(yb8[0]["id"])["status"] == "awaiting-approval"
    change = [e for e in s.json("history", U)["events"] if e["type"] == "EnterpriseDetailsChanged"]
    assert change[0]["data"]["size"] == "small" and change[0]["previous"] == {
        "size": None,
        "department": None,
    }
    assert "size - → small" in s.ok("history", U)


def test_update_refusals_write_nothing(db_url: str) -> None:
    """No detail, no change, a future date, a date before registration: exit 2, one line, nothing written."""
    s = Srdi(db_url)
    s.setup(
        "enterprise",
        "add",
        U,
        "--name",
        "渝北测试",
        "--district",
        "yubei",
        "--size",
        "small",
        "--on",
        "2021-01-01",
    )
    before = s.events()
    cases = [
        (("enterprise", "update", U, "--on", "2024-01-01"), "at least one detail"),
        (("enterprise", "update", U, "--on", "2024-01-01", "--size", "small"), "nothing changes"),
        (("enterprise", "update", U, "--on", future(), "--size", "medium"), "after today"),
        (
            ("enterprise", "update", U, "--on", "2020-12-31", "--size", "medium"),
            "before the enterprise's registration",
        ),
        (("enterprise", "update", U, "--on", "2024-01-01", "--district", "atlantis"), "atlantis"),
    ]
    for args, match in cases:
        assert_rejection(s.here(*args), match)
    assert s.events() == before
