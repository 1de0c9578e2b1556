"""The canonical form of an event and its hash chain.

Anyone can verify an export with the standard library alone:

    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    hash_n    = sha256((hash_{n-1} + canonical).encode("utf-8")).hexdigest()

where ``obj`` holds exactly the keys in ``HASHED_FIELDS`` (``data`` is the stored payload as it was
written, i.e. before any upcasting), ``occurred_on`` is ``YYYY-MM-DD``, ``recorded_at`` is
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), and the chain starts from ``GENESIS`` (64 zeros).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The string encoder ``json.dumps(..., ensure_ascii=False)`` uses (the C one when available),
# the C encoder factory behind json.dumps, and its error for unknown types.
_encode_str = json.encoder.encode_basestring
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # absent without the C accelerator
_default = json.JSONEncoder().default

HASHED_FIELDS = (
    "actor",
    "causation_id",
    "correlation_id",
    "data",
    "event_id",
    "event_type",
    "occurred_on",
    "position",
    "recorded_at",
    "schema_version",
    "stream_id",
    "stream_version",
)


def dumps(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    if _c_make_encoder is None:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Exactly what json.dumps(...) runs for these options, minus building a JSONEncoder per call
    # (a fresh markers dict keeps its circular-reference check).
    return "".join(_c_make_encoder({}, _default, _encode_str, None, ":", ",", True, False, True)(obj, 0))


def format_recorded_at(moment: datetime) -> str:
    """UTC, microseconds, ``Z`` suffix: one spelling for one instant."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.year >= 1000:  # isoformat is strftime's text here, at a fraction of its cost
        return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_event(fields: Mapping[str, Any]) -> str:
    """The canonical text of an event from its ``HASHED_FIELDS`` as stored values.

    ``occurred_on`` a date, ``recorded_at`` a datetime and ``data`` the JSON-native payload: they are
    formatted here and the rest is `canonical_text`.
    """
    text = {name: fields[name] for name in HASHED_FIELDS if name != "data"}
    text["occurred_on"] = fields["occurred_on"].isoformat()
    text["recorded_at"] = format_recorded_at(fields["recorded_at"])
    return canonical_text(payload=dumps(fields["data"]), **text)


def canonical_text(
    *,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    occurred_on: str,
    recorded_at: str,
    actor: str,
    causation_id: str | None,
    correlation_id: str | None,
    payload: str,
) -> str:
    """``canonical_event`` from parts already in text form: the same string, built without a dict.

    ``occurred_on`` and ``recorded_at`` are the formatted dates and ``payload`` is ``dumps(data)``,
    so the bulk path formats the shared timestamp once and dumps each payload once (it stores that
    text too). Keys are concatenated in sorted order; every value goes through the encoder
    ``json.dumps`` itself uses, so the result is byte for byte ``dumps`` of the canonical dict.
    """
    if (
        type(actor) is str
        and type(event_id) is str
        and type(event_type) is str
        and type(stream_id) is str
        and type(occurred_on) is str
        and type(recorded_at) is str
        and type(position) is int
        and type(schema_version) is int
        and type(stream_version) is int
    ):  # the usual types: encode inline (the same encoder, without a call per field)
        enc = _encode_str
        return (
            f'{{"actor":{enc(actor)},"causation_id":{"null" if causation_id is None else _json(causation_id)}'
            f',"correlation_id":{"null" if correlation_id is None else _json(correlation_id)}'
            f',"data":{payload},"event_id":{enc(event_id)},"event_type":{enc(event_type)}'
            f',"occurred_on":{enc(occurred_on)},"position":{position}'
            f',"recorded_at":{enc(recorded_at)},"schema_version":{schema_version}'
            f',"stream_id":{enc(stream_id)},"stream_version":{stream_version}}}'
        )
    return (
        f'{{"actor":{_json(actor)},"causation_id":{_json(causation_id)}'
        f',"correlation_id":{_json(correlation_id)},"data":{payload}'
        f',"event_id":{_json(event_id)},"event_type":{_json(event_type)}'
        f',"occurred_on":{_json(occurred_on)},"position":{_json(position)}'
        f',"recorded_at":{_json(recorded_at)},"schema_version":{_json(schema_version)}'
        f',"stream_id":{_json(stream_id)},"stream_version":{_json(stream_version)}}}'
    )


def canonical_parts(
    *,
    event_id: str,
    stream_id: str,
    event_type: str,
    schema_version: int,
    occurred_on: str,
    actor: str,
    causation_id: str | None,
    correlation_id: str | None,
    payload: str,
) -> tuple[str, str]:
    """``canonical_text`` split around what only the write lock knows: ``(head, middle)`` with

        canonical_text(...) == head + str(position) + ',"recorded_at":' + quoted(recorded_at)
                               + middle + str(stream_version) + "}"

    so an append encodes every event before it takes the lock and, holding it, only joins four
    pieces and hashes (`assemble`). Same encoder as ``canonical_text``: byte for byte the same text.
    """
    head = (
        f'{{"actor":{_json(actor)},"causation_id":{_json(causation_id)}'
        f',"correlation_id":{_json(correlation_id)},"data":{payload}'
        f',"event_id":{_json(event_id)},"event_type":{_json(event_type)}'
        f',"occurred_on":{_json(occurred_on)},"position":'
    )
    middle = f',"schema_version":{_json(schema_version)},"stream_id":{_json(stream_id)},"stream_version":'
    return head, middle


def recorded_part(recorded_at: str) -> str:
    """The piece between position and schema version: ``,"recorded_at":"..."`` (one per append)."""
    return ',"recorded_at":' + _json(recorded_at)


def assemble(head: str, position: int, recorded: str, middle: str, stream_version: int) -> str:
    """The canonical text from `canonical_parts` and `recorded_part` and the two numbers."""
    return f"{head}{position}{recorded}{middle}{stream_version}}}"


def _json(value: Any) -> str:
    """One scalar as ``dumps`` writes it (the common types inline, anything else through ``dumps``)."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return dumps(value)


def chain_hash(previous: str, canonical: str) -> str:
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()
