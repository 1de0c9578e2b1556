"""Anchoring the log: verify it, sign its head, append the anchor to the file, mail it to the auditors.

The CLI (`srdi audit anchor`) and the scheduler's daily job both come here. An anchor is only ever
signed over a log that verifies, and that still matches every anchor already in the file: signing a
tampered log would launder the tampering.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from events import anchors
from events.anchors import Anchor, AnchorError, BadAnchor, keygen
from events.integrity import AnchorCheck, VerifyResult, check_anchors, verify
from events.lazy_logging import get_logger
from service_layer.settings import Settings

# Re-exported: what the command line catches and calls, so it need not reach into events/.
__all__ = [
    "Anchor",
    "AnchorError",
    "Anchored",
    "BadAnchor",
    "LogNotIntact",
    "anchor",
    "keygen",
    "mail_anchor",
    "pinned_key",
    "verify_with_anchors",
]

log = get_logger("srdi.anchors")


class LogNotIntact(Exception):
    """The log fails its chain or its anchors: nothing is signed (CLI exit 4)."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Anchored:
    anchor: Anchor
    path: Path
    mailed_to: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.anchor.position,
            "hash": self.anchor.hash,
            "anchored_at": self.anchor.anchored_at,
            "key_id": self.anchor.key_id,
            "log": str(self.path),
            "mailed_to": list(self.mailed_to),
        }


def pinned_key(settings: Settings, given: Path | None = None) -> str | None:
    """The expected signer: ``given``, else ``SRDI_ANCHOR_PUBLIC_KEY``, else the public half of the
    configured signing key when it lies beside it; None when no key is known (anchors then check
    with the key they carry)."""
    path = given or settings.anchor_public_key
    if path is None and settings.anchor_key is not None:
        beside = anchors.public_path(settings.anchor_key)
        path = beside if beside.exists() else None
    return anchors.load_public(path) if path is not None else None


def verify_with_anchors(
    engine: Engine, path: Path, pinned: str | None
) -> tuple[VerifyResult, AnchorCheck | None]:
    """The chain walk, then (when it holds) every anchor of ``path`` against it."""
    from service_layer.roles import require_whole_log

    require_whole_log(engine, "checking the hash chain")
    found = anchors.read(path)
    chain = verify(engine)
    if not chain.ok:
        return chain, None
    return chain, check_anchors(engine, chain, found, pinned)


def anchor(
    settings: Settings, engine: Engine, *, key: Path | None = None, log_path: Path | None = None
) -> Anchored:
    """Sign the verified head of the log and append it to the anchor log; mail it if configured."""
    from service_layer.roles import require_whole_log

    require_whole_log(engine, "an anchor")
    key_path = key or settings.anchor_key
    if key_path is None:
        raise AnchorError(
            "no signing key: give --key PATH or set SRDI_ANCHOR_KEY (make one with 'srdi audit keygen')"
        )
    private = anchors.load_private(key_path)
    target = log_path or settings.anchor_log
    previous = anchors.read(target) if target.exists() else []
    chain = verify(engine)
    if not chain.ok:
        raise LogNotIntact(
            f"the log fails verification at position {chain.first_bad_position}: {chain.reason}; "
            "nothing signed",
            chain.first_bad_position,
        )
    check = check_anchors(engine, chain, previous)  # each earlier anchor with the key it carries
    if not check.ok:
        raise LogNotIntact(f"{check.reason}; nothing signed", check.first_bad_position)
    signed = anchors.sign(private, chain.last_position, chain.last_hash)
    anchors.append(target, signed)
    mailed = mail_anchor(settings, signed)
    log.info("anchored", position=signed.position, hash=signed.hash, log=str(target))
    return Anchored(signed, target, mailed)


def mail_anchor(settings: Settings, signed: Anchor) -> tuple[str, ...]:
    """Mail the anchor line to ``SRDI_AUDITOR_EMAILS`` over the scheduler's SMTP settings.

    The anchor is already in its file: a mail that fails is logged as an error, not raised.
    """
    if not settings.auditor_emails:
        return ()
    import json

    from scheduler.notify import send_plain

    body = (
        f"srdi log anchored: position {signed.position}, hash {signed.hash}, at {signed.anchored_at}.\n"
        "Keep this line; 'srdi audit verify --anchors FILE' checks the log against it.\n\n"
        + json.dumps(signed.to_json(), sort_keys=True)
        + "\n"
    )
    subject = f"[srdi] anchor: position {signed.position}"
    try:
        send_plain(settings, list(settings.auditor_emails), subject, body)
    except Exception as error:  # the anchor is safe in its file; say the mail did not go
        log.error("anchor mail failed", error=f"{type(error).__name__}: {error}", to=settings.auditor_emails)
        return ()
    return tuple(settings.auditor_emails)
