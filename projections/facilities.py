"""Parks, internship bases and incubators: one row per facility, for the targets that count them.

``targets`` counts them on its reference day: established in the period (``new-in-period``), or
established and not closed on the day (``total``). Read it together with ``targets``
(``projections.targets.TARGET_VIEWS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.envelope import RecordedEvent
from events.sql_store import EventParts
from projections.framework import DateParam, SubjectProjection, metadata, required

facilities_table = sa.Table(
    "facilities",
    metadata,
    sa.Column("facility_id", sa.String(64), primary_key=True),
    *required(("kind", sa.String(30)), ("name", sa.String(300)), ("district", sa.String(50))),
    sa.Column("established_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.Index("ix_facilities_district_kind", "district", "kind"),
)


class FacilitiesProjection(SubjectProjection):
    name = "facilities"
    handles = frozenset({"FacilityEstablished", "FacilityClosed"})
    tables = (facilities_table,)
    creation = "FacilityEstablished"
    subject_key = "facility_id"

    def row(self, events: Sequence[EventParts], day: DateParam) -> tuple[Any, ...]:
        _kind, _event_id, on, data = events[0]
        closed = None
        for _kind, _event_id, later, _data in events[1:]:  # closings: the last one stands
            closed = later
        return (data["facility_id"], data["kind"], data["name"], data["district"], day(on), day(closed))

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        f = facilities_table.c
        for event in events:
            data = event.data
            if event.event_type == "FacilityEstablished":
                conn.execute(sa.delete(facilities_table).where(f.facility_id == data["facility_id"]))
                conn.execute(
                    sa.insert(facilities_table).values(
                        facility_id=data["facility_id"],
                        kind=data["kind"],
                        name=data["name"],
                        district=data["district"],
                        established_on=event.occurred_on,
                        closed_on=None,
                    )
                )
            else:
                conn.execute(
                    sa.update(facilities_table)
                    .where(f.facility_id == data["facility_id"])
                    .values(closed_on=event.occurred_on)
                )
