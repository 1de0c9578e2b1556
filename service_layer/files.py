"""Files the command line reads and writes, handled so that a mistake costs nothing.

Inputs (`open_input` for the import file, which is streamed; `read_input` for a policy file): a
regular file only — a directory, a device (``/dev/zero``), a FIFO or a socket is refused before a
byte is read — and at most `MAX_IMPORT_BYTES` / `MAX_INPUT_BYTES`, so an endless or enormous
source cannot fill the memory or hold a transaction for hours.

Outputs (`output_file`: ledger CSV/XLSX, the audit export, …): written to a temporary file in the
target's own folder, flushed to disk, then renamed over the target in one step, so a reader never
sees half a file and a failure leaves the old file as it was. An existing file is kept unless
``--force``; a symbolic link, a directory, a device or a FIFO at the path is refused (replacing
them would follow or destroy something that is not an export). A missing folder, a directory or a
path the user may not write is exit 2; a full disk while writing is exit 5 (`failures`).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from domain.errors import InvalidInput, shown
from service_layer.failures import FULL, Unavailable

MAX_INPUT_BYTES = 100 * 1024 * 1024
"""The largest file read whole (a policy file): 100 MiB."""
MAX_IMPORT_BYTES = 1024 * 1024 * 1024
"""The largest import file (streamed): 1 GiB, about ten million lines; split a larger one."""
_CHUNK = 1024 * 1024


PATH_SHOWN = 240
"""Characters of a path a message shows; a longer one keeps its end, where the file's name is."""


def shown_path(path: Path | str) -> str:
    """A path for a message: whole when it is short, else its last `PATH_SHOWN` characters."""
    text = str(path)
    if len(text) <= PATH_SHOWN:
        return shown(text, PATH_SHOWN, quote=False)
    return f"…{shown(text[-PATH_SHOWN:], PATH_SHOWN, quote=False)} ({len(text):,} characters)"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def open_input(path: Path | str, what: str = "input file", *, limit: int = MAX_INPUT_BYTES) -> BinaryIO:
    """An open binary handle on a regular file of at most ``limit`` bytes (for a reader that
    streams it); otherwise one `InvalidInput` line, before a byte is read."""
    name = shown_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not block the open
    except OSError as error:
        raise InvalidInput(f"cannot read the {what} {name}: {error.strerror or error}") from None
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode) or found.st_size > limit:
        os.close(fd)
        if not stat.S_ISREG(found.st_mode):
            raise InvalidInput(f"the {what} {name} is {_kind(found.st_mode)}; give a regular file")
        raise InvalidInput(_too_large(what, name, limit))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_input(path: Path | str, what: str = "input file", *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (`open_input`), read in chunks."""
    name = shown_path(path)
    with open_input(path, what, limit=limit) as handle:
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > limit:  # the file grew while read
                    raise InvalidInput(_too_large(what, name, limit))
                chunks.append(chunk)
        except OSError as error:
            raise InvalidInput(f"cannot read the {what} {name}: {error.strerror or error}") from None
    return b"".join(chunks)


def _too_large(what: str, name: str, limit: int) -> str:
    return f"the {what} {name} is larger than {limit // (1024 * 1024):,} MiB; split it into smaller files"


def check_output(path: Path | str, *, force: bool, option: str = "--force") -> Path:
    """The path an export may be written to, or one `InvalidInput` line saying why not."""
    target = Path(path)
    name = shown_path(path)
    if not str(path).strip():
        raise InvalidInput("the output path is empty; give a file name")
    try:
        found = os.lstat(target)
    except FileNotFoundError:
        found = None
    except OSError as error:
        raise InvalidInput(f"cannot write {name}: {error.strerror or error}") from None
    if found is not None:
        if not stat.S_ISREG(found.st_mode):
            raise InvalidInput(f"{name} is {_kind(found.st_mode)}; give the path of a new file")
        if not force:
            raise InvalidInput(f"{name} exists; add {option} to replace it, or give another path")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInput(f"cannot write {name}: the folder {shown_path(folder)} does not exist")
    return target


@contextmanager
def output_file(
    path: Path | str, *, force: bool, binary: bool = False, encoding: str = "utf-8", option: str = "--force"
) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside ``path``, renamed over it when the block ends cleanly."""
    target = check_output(path, force=force, option=option)
    name = shown_path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _write_failure(error, name) from None
    try:
        handle: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        check_output(target, force=force, option=option)  # nothing appeared there meanwhile
        os.replace(tmp, target)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _write_failure(error, name) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_failure(error: OSError, name: str) -> Exception:
    if error.errno in FULL:
        return Unavailable(f"the disk is full: {name} was not written (an existing file is unchanged)")
    if error.errno in (errno.EROFS, errno.EIO):
        return Unavailable(f"cannot write {name}: {error.strerror}; an existing file is unchanged")
    return InvalidInput(f"cannot write {name}: {error.strerror or error}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
