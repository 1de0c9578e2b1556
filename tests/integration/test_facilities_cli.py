"""SRDI parks, internship bases and incubators: entities of their own, counted by Liangjiang's targets."""

from __future__ import annotations

import json

from tests.cli import as_json, invoke, ok


def _add(url: str, facility: str, kind: str, name: str, district: str, on: str, *more: str) -> None:
    """`srdi facility add` (it must succeed)."""
    terms = ("--kind", kind, "--name", name, "--district", district, "--on", on)
    ok(url, "facility", "add", facility, *terms, *more)


def _actual(url: str, measure: str, *args: str) -> int:
    rows = as_json(url, "targets", "liangjiang", *args)["rows"]
    return int(next(r for r in rows if r["measure"] == measure)["actual"])


def test_parks_and_bases_are_counted_by_liangjiang_targets_as_of_a_date(db_url: str) -> None:
    """Two parks (one before the plan's period) and a base: parks 1, bases 1; as of 2023 bases 0."""
    _add(db_url, "LJ-PARK-00", "srdi-park", "旧园", "两江", "2021-05-01")
    _add(
        db_url,
        "LJ-PARK-01",
        "产业园",
        "两江专精特新产业园",
        "liangjiang",
        "2023-05-01",
        "--unit",
        "两江产业集团",
    )
    _add(db_url, "LJ-BASE-01", "见习基地", "见习基地一", "liangjiang", "2024-05-01")
    _add(db_url, "YB-INC-01", "incubator", "渝北孵化器", "yubei", "2024-05-01")
    assert _actual(db_url, "srdi-parks") == 1
    assert _actual(db_url, "internship-bases") == 1
    assert _actual(db_url, "internship-bases", "--as-of", "2023-12-31") == 0
    ok(db_url, "facility", "close", "LJ-PARK-01", "--on", "2025-01-01", "--reason", "撤销认定")
    assert _actual(db_url, "srdi-parks") == 1  # built in the period: still one of the 10 built
    listed = json.loads(
        ok(db_url, "facility", "list", "--district", "两江", "--as-of", "2025-06-01", "--json")
    )
    assert [f["id"] for f in listed["facilities"]] == ["LJ-PARK-00", "LJ-BASE-01"]


def test_facility_refusals_write_nothing(db_url: str) -> None:
    """A repeated id, an unknown kind, a bad id, a close before it existed: exit 2, nothing written."""
    _add(db_url, "P1", "park", "园", "两江", "2023-01-01")
    for args, word in (
        (
            ("add", "P1", "--kind", "park", "--name", "园", "--district", "两江", "--on", "2023-01-01"),
            "already",
        ),
        (
            ("add", "P2", "--kind", "moonbase", "--name", "园", "--district", "两江", "--on", "2023-01-01"),
            "--kind",
        ),
        (
            ("add", "园区/1", "--kind", "park", "--name", "园", "--district", "两江", "--on", "2023-01-01"),
            "ID",
        ),
        (("close", "P1", "--on", "2022-01-01", "--reason", "x"), "before"),
        (("close", "P9", "--on", "2024-01-01", "--reason", "x"), "no facility"),
    ):
        result = invoke(db_url, "facility", *args)
        assert result.exit_code == 2 and word in result.stderr, (args, result.output)
    events = json.loads(ok(db_url, "replay", "--json"))["events"]
    assert events == 1
