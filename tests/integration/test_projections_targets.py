"""District targets: the policy data's targets (Qianjiang's annexes included) beside the log's counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from events.db import make_engine
from events.migrate import ensure_schema
from events.sql_store import SqlEventStore
from tests.integration.projections_support import append, milestone, registered, uscc

# POLICY-CATALOGUE.md, Qianjiang's annexes: new per department for 2023 … 2027.
TECH_SME = {
    "区发展改革委": (5, 6, 15, 15, 17),
    "区科技局": (21, 23, 40, 38, 35),
    "区经济信息委": (4, 5, 15, 17, 18),
    "区农业农村委": (2, 4, 10, 10, 10),
    "区商务委": (2, 3, 5, 5, 5),
    "区招商投资局": (4, 5, 10, 10, 10),
    "区国资委": (2, 3, 5, 5, 5),
    "区林业局": (2, 2, 5, 5, 5),
    "区住房城乡建委": (2, 2, 5, 5, 5),
    "正阳工业园区管委会": (10, 12, 40, 40, 40),
}
HNTE = {
    "区发展改革委": (1, 1, 1, 1, 1),
    "区科技局": (1, 1, 1, 1, 1),
    "区经济信息委": (1, 1, 1, 1, 1),
    "区农业农村委": (1, 1, 1, 0, 1),
    "区商务委": (1, 1, 1, 1, 1),
    "区招商投资局": (1, 1, 1, 1, 1),
    "区国资委": (1, 1, 1, 1, 1),
    "区林业局": (1, 1, 0, 1, 1),
    "区住房城乡建委": (1, 0, 1, 1, 0),
    "正阳工业园区管委会": (2, 2, 2, 2, 2),
}
CUMULATIVE = {"tech-sme": (485, 550, 700, 850, 1000), "hnte": (60, 70, 80, 90, 100)}
YEARS = (2023, 2024, 2025, 2026, 2027)


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    """The test database, migrated, with a small Qianjiang history (and a Yubei distractor)."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    _history(SqlEventStore(engine))
    engine.dispose()
    yield db_url


def _history(store: SqlEventStore) -> None:
    sti = "区科技局"
    for n in range(3):  # three new 科技型 for 区科技局 in 2025
        code = uscc(10 + n)
        append(store, code, registered(code, date(2023, 1, 1), "qianjiang", sti))
        append(store, code, milestone(code, "tech-sme", "certified", date(2025, 2 + n, 1)))
    code = uscc(20)  # the department spelled with a stray space still counts
    append(store, code, registered(code, date(2023, 1, 1), "qianjiang", " 区科技局 "))
    append(store, code, milestone(code, "tech-sme", "certified", date(2025, 12, 31)))
    code = uscc(21)  # first entered in 2024, lapsed, re-entered in 2025: not new in 2025
    append(
        store,
        code,
        registered(code, date(2023, 1, 1), "qianjiang", sti),
        milestone(code, "tech-sme", "certified", date(2024, 2, 1)),
        milestone(code, "tech-sme", "expired", date(2025, 2, 1)),
        milestone(code, "tech-sme", "certified", date(2025, 3, 1)),
    )
    code = uscc(22)  # a new 高新 for the industrial park
    append(
        store,
        code,
        registered(code, date(2023, 1, 1), "qianjiang", "正阳工业园区管委会"),
        milestone(code, "hnte", "certified", date(2025, 6, 1)),
    )
    code = uscc(23)  # Yubei: never counted for Qianjiang
    append(
        store,
        code,
        registered(code, date(2023, 1, 1), "yubei", sti),
        milestone(code, "tech-sme", "certified", date(2025, 2, 1)),
    )


def _targets(url: str, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--db", url, "targets", *args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _rows(document: dict[str, Any], basis: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(r["measure"], r["department"]): r for r in document["rows"] if r["basis"] == basis}


@pytest.mark.parametrize("year", YEARS)
def test_targets_reproduce_the_qianjiang_annex_figures(url: str, year: int) -> None:
    """srdi targets qianjiang --year Y lists every annex cell of Y per department, and the totals."""
    document = _targets(url, "qianjiang", "--year", str(year))
    assert document["district"] == "qianjiang" and document["year"] == year
    i = YEARS.index(year)
    per_department = {key: r["target"] for key, r in _rows(document, "new-in-year").items()}
    expected = {("tech-sme", d): v[i] for d, v in TECH_SME.items()} | {
        ("hnte", d): v[i] for d, v in HNTE.items()
    }
    assert per_department == expected
    totals = _rows(document, "total")
    for measure, values in CUMULATIVE.items():
        assert totals[(measure, None)]["target"] == values[i]


def test_qianjiang_2025_actuals_follow_the_documented_definitions(url: str) -> None:
    """New = first certification in the year per department; stock = valid titles on 31 December."""
    document = _targets(url, "黔江", "--year", "2025", "--as-of", "2026-03-01")
    new = _rows(document, "new-in-year")
    assert (new[("tech-sme", "区科技局")]["target"], new[("tech-sme", "区科技局")]["actual"]) == (40, 4)
    assert new[("hnte", "正阳工业园区管委会")]["actual"] == 1
    assert new[("tech-sme", "区发展改革委")]["actual"] == 0
    totals = _rows(document, "total")
    assert totals[("tech-sme", None)]["actual"] == 5  # 10, 11, 12, 20 and the re-entered 21
    assert (
        totals[("tech-sme", None)]["comparison"] == "more-than" and totals[("tech-sme", None)]["met"] is False
    )
    assert totals[("hnte", None)]["actual"] == 1


def test_targets_as_of_counts_only_what_had_happened(url: str) -> None:
    """--as-of mid-2025 counts the certifications up to that day and the stock on it."""
    document = _targets(url, "qianjiang", "--year", "2025", "--as-of", "2025-03-15")
    assert document["as_of"] == "2025-03-15"
    assert _rows(document, "new-in-year")[("tech-sme", "区科技局")]["actual"] == 2  # Feb and Mar
    assert _rows(document, "total")[("tech-sme", None)]["actual"] == 3  # 10, 11 and 21 (re-entered)


def test_targets_json_shape_and_measures_counted(url: str) -> None:
    """Every row has the CLI.md keys; 数字化车间 and the other measures are counted (0 here), never null."""
    document = _targets(url, "rongchang")
    assert document["year"] is None and document["rows"]
    for row in document["rows"]:
        assert {"measure", "department", "target", "actual"} <= row.keys()
    by_measure = {r["measure"]: r for r in document["rows"]}
    assert by_measure["digital-workshop"]["actual"] == 0
    assert by_measure["high-value-patents"]["actual"] == 0
    assert by_measure["new-listings"]["actual"] == 0


def test_unknown_district_is_refused_with_exit_2(url: str) -> None:
    """A district that is not a key or Chinese name: one line on stderr, exit 2."""
    result = CliRunner().invoke(app, ["--db", url, "targets", "atlantis", "--json"])
    assert result.exit_code == 2 and "unknown district" in result.stderr


def test_targets_table_output_in_chinese(url: str) -> None:
    """Without --json a table is printed; --lang zh shows the Chinese measure names."""
    result = CliRunner().invoke(
        app, ["--db", url, "targets", "qianjiang", "--year", "2025", "--lang", "zh"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "黔江" in result.stdout and "科技型" in result.stdout


def _moved(code: str, on: date, **fields: str) -> Any:
    from events.envelope import NewEvent
    from events.schemas import EnterpriseDetailsChanged

    return NewEvent(EnterpriseDetailsChanged(uscc=code, **fields), on, "clerk")


def test_a_certification_counts_where_it_was_won(db_url: str) -> None:
    """Details are dated: a title counts for the district and department in force on its date."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    store = SqlEventStore(engine)
    sti, eco = "区科技局", "区经济信息委"
    a, b = uscc(40), uscc(41)
    append(
        store,
        a,  # won by 区科技局 in April, then handed to 区经济信息委: still 区科技局's
        registered(a, date(2023, 1, 1), "qianjiang", sti),
        milestone(a, "tech-sme", "certified", date(2025, 4, 1)),
        _moved(a, date(2025, 6, 1), department=eco),
    )
    append(
        store,
        b,  # moved from Yubei to Qianjiang before it was certified: Qianjiang's
        registered(b, date(2023, 1, 1), "yubei", eco),
        _moved(b, date(2025, 1, 1), district="qianjiang"),
        milestone(b, "tech-sme", "certified", date(2025, 5, 1)),
    )
    engine.dispose()
    new = _rows(_targets(db_url, "qianjiang", "--year", "2025"), "new-in-year")
    assert new[("tech-sme", sti)]["actual"] == 1
    assert new[("tech-sme", eco)]["actual"] == 1
    assert _rows(_targets(db_url, "qianjiang", "--year", "2025"), "total")[("tech-sme", None)]["actual"] == 2
    yubei = _targets(db_url, "yubei", "--year", "2025")["rows"]
    assert all(r["actual"] in (0, None) for r in yubei)
