"""Signed anchors: the log's (position, last hash, time) signed with an Ed25519 key kept outside it.

A hash chain proves order and content relative to its last hash, and nothing more: whoever can
write the database can cut the tail, append a forged event with a recomputed hash, or rehash the
whole chain, and the chain still verifies. An anchor is a signed statement "at ``anchored_at`` the
log held ``position`` events ending in ``hash``", written to a file outside the database (and mailed
to the auditors), as Certificate Transparency publishes signed tree heads. Later, the stored hash at
every anchored position must still be the anchored one: because each hash covers everything before
it, that proves the whole anchored prefix unchanged.

An anchor is one JSON line (``ANCHOR_FIELDS`` plus ``signature``); the signature is Ed25519 over the
canonical JSON (``events.canonical.dumps``) of the line without ``signature``, base64-encoded. The
public key travels in the line too, so an anchor checks itself; pinning the expected key (its file,
or ``SRDI_ANCHOR_PUBLIC_KEY``) is what stops someone who can write the anchor file from replacing
the anchors with ones signed by a key of their own.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events import canonical

FORMAT = "srdi-anchor"
VERSION = 1
ANCHOR_FIELDS = ("format", "version", "position", "hash", "anchored_at", "public_key", "key_id")


class AnchorError(Exception):
    """A key or anchor file cannot be used as asked (a user's mistake: exit 2)."""


class BadAnchor(Exception):
    """An anchor line that is not what srdi signed: malformed, or its signature fails (exit 4)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """One signed statement of the log's head."""

    position: int
    hash: str
    anchored_at: str
    public_key: str
    key_id: str
    signature: str
    line: int = 0
    """Its line number in the anchor file (1-based; 0 when not read from a file)."""

    def signed_part(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "position": self.position,
            "hash": self.hash,
            "anchored_at": self.anchored_at,
            "public_key": self.public_key,
            "key_id": self.key_id,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.signed_part(), "signature": self.signature}


# -- keys ---------------------------------------------------------------------------------------
def public_path(private: Path) -> Path:
    """Where ``keygen`` puts the public half: ``PATH.pub``."""
    return private.with_name(private.name + ".pub")


def keygen(path: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key (PEM, mode 0600) at ``path`` and its public key at ``path.pub``.

    Refuses to overwrite either file: replacing a signing key silently would orphan every anchor.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = public_path(path)
    for existing in (path, public):
        if existing.exists():
            raise AnchorError(f"{existing} already exists; keygen never overwrites a key: choose another")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write_new(path, private_pem, 0o600)
        _write_new(public, public_pem, 0o644)
    except FileExistsError as error:
        raise AnchorError(f"{error.filename} already exists; keygen never overwrites a key") from None
    except OSError as error:
        path.unlink(missing_ok=True)
        raise AnchorError(f"cannot write the key at {path}: {error.strerror or error}") from None
    return path, public


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise AnchorError(f"cannot read the signing key {path}: {error.strerror or error}") from None
    except (ValueError, TypeError):
        raise AnchorError(
            f"{path} is not an unencrypted PEM private key; make one with 'srdi audit keygen'"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"{path} is not an Ed25519 key; make one with 'srdi audit keygen'")
    return key


def load_public(path: Path) -> str:
    """The raw public key in a PEM file (``keygen``'s ``PATH.pub``), base64-encoded as anchors carry it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise AnchorError(f"cannot read the public key {path}: {error.strerror or error}") from None
    except (ValueError, TypeError):
        raise AnchorError(f"{path} is not a PEM public key (the PATH.pub of 'srdi audit keygen')") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError(f"{path} is not an Ed25519 public key")
    return _raw_public(key)


def _raw_public(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_id(public_key: str) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


# -- signing and checking -----------------------------------------------------------------------
def sign(private_key: Any, position: int, last_hash: str, at: datetime | None = None) -> Anchor:
    """An anchor of the log's head at ``position`` / ``last_hash``, signed now (or at ``at``)."""
    public = _raw_public(private_key.public_key())
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    unsigned = Anchor(position, last_hash, moment.isoformat(), public, key_id(public), "")
    signature = private_key.sign(canonical.dumps(unsigned.signed_part()).encode("utf-8"))
    encoded = base64.b64encode(signature).decode("ascii")
    return Anchor(position, last_hash, unsigned.anchored_at, public, unsigned.key_id, encoded)


def check_signature(anchor: Anchor, pinned: str | None = None) -> None:
    """Raise ``BadAnchor`` unless the signature verifies (with the pinned key, when one is given)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    where = f"anchor on line {anchor.line}" if anchor.line else "the anchor"
    if pinned is not None and anchor.public_key != pinned:
        raise BadAnchor(f"{where} is signed by key {anchor.key_id}, not the expected key {key_id(pinned)}")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(anchor.public_key, validate=True))
        key.verify(
            base64.b64decode(anchor.signature, validate=True),
            canonical.dumps(anchor.signed_part()).encode("utf-8"),
        )
    except (InvalidSignature, ValueError):
        raise BadAnchor(f"{where}: the signature does not verify; the anchor was altered or forged") from None


def from_json(data: Any, line: int = 0) -> Anchor:
    """An anchor from its JSON form, or ``BadAnchor`` naming what is wrong with it."""
    where = f"anchor on line {line}" if line else "the anchor"
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BadAnchor(f"{where} is not a {FORMAT} version {VERSION} record")
    try:
        anchor = Anchor(
            position=data["position"],
            hash=data["hash"],
            anchored_at=data["anchored_at"],
            public_key=data["public_key"],
            key_id=data["key_id"],
            signature=data["signature"],
            line=line,
        )
    except KeyError as error:
        raise BadAnchor(f"{where} lacks {error.args[0]!r}") from None
    if type(anchor.position) is not int or anchor.position < 0:
        raise BadAnchor(f"{where}: position {anchor.position!r} is not a whole number")
    texts = (anchor.hash, anchor.anchored_at, anchor.public_key, anchor.key_id, anchor.signature)
    if not all(isinstance(value, str) for value in texts):
        raise BadAnchor(f"{where}: a field that should be text is not")
    return anchor


# -- the anchor file ----------------------------------------------------------------------------
def append(path: Path, anchor: Anchor) -> None:
    """Add one line to the anchor file, under an exclusive lock, fsynced (the file is created 0644)."""
    data = (json.dumps(anchor.to_json(), sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as error:
        raise AnchorError(f"cannot write the anchor log {path}: {error.strerror or error}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[Anchor]:
    """Every anchor in the file, in order (signatures not yet checked); ``AnchorError`` if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnchorError(
            f"no anchor log at {path}; check --anchors (write one with 'srdi audit anchor')"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AnchorError(f"cannot read the anchor log {path}: {error}") from None
    anchors: list[Anchor] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise BadAnchor(f"anchor on line {number} of {path} is not JSON") from None
        anchors.append(from_json(data, number))
    return anchors


def latest(anchors: Sequence[Anchor], up_to: int | None = None) -> Anchor | None:
    """The anchor of the highest position (at most ``up_to``), the later one on a tie."""
    best: Anchor | None = None
    for anchor in anchors:
        if up_to is not None and anchor.position > up_to:
            continue
        if best is None or anchor.position >= best.position:
            best = anchor
    return best
