"""`cli_commands.startup`: the script's GC pause and its short exit keep what ``sys.exit`` promises."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from cli_commands import startup


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the collector as found: enabled, nothing frozen, no pause pending."""
    yield
    startup._paused = False
    gc.unfreeze()
    gc.enable()


def test_the_pause_lasts_until_resumed_then_what_was_alive_is_frozen(collector: None) -> None:
    startup.pause_gc()
    assert not gc.isenabled()
    before = gc.get_freeze_count()
    startup.resume_gc()
    assert gc.isenabled()
    assert gc.get_freeze_count() > before


def test_resuming_without_a_pause_changes_nothing(collector: None) -> None:
    """In-process callers (the tests, the scheduler) never paused: the database opening freezes nothing."""
    before = gc.get_freeze_count()
    startup.resume_gc()
    assert gc.isenabled()
    assert gc.get_freeze_count() == before


def test_a_collector_already_off_is_left_off(collector: None) -> None:
    """Whoever turned it off decides when it comes back; resume does not turn it on."""
    gc.disable()
    startup.pause_gc()
    startup.resume_gc()
    assert not gc.isenabled()


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), (4, 4)])
def test_exit_codes_map_as_the_interpreter_maps_them(code: int | None, status: int) -> None:
    assert startup.exit_code(code) == status


def test_a_message_exit_prints_the_message_and_is_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert startup.exit_code("error: no such file") == 1
    assert capsys.readouterr().err == "error: no such file\n"


def test_with_another_thread_alive_the_usual_exit_is_taken() -> None:
    """A thread still running (a scheduler's worker) is not cut short: ``sys.exit`` joins it."""
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as done:
            startup.exit_now(3)
        assert done.value.code == 3
    finally:
        release.set()
        worker.join()
