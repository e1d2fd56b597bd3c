"""The dashboard's garbage-collector policy (noc_tui.ui.startup): held until the first
frame, then full collections deferred to pauses in the operator's input."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from noc_tui.ui import startup


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    startup.resume_full_collections()
    gc.set_threshold(*thresholds)
    startup._held = False
    if enabled:
        gc.enable()
    gc.unfreeze()


def _young_passes(n: int) -> None:
    for _ in range(n):
        gc.collect(1)


def test_full_collections_wait_for_a_pause_in_input() -> None:
    startup.defer_full_collections()
    gc.collect()
    _young_passes(3)
    assert gc.get_count()[2] == 3
    # Keys keep coming: no full pass, the young passes still count up.
    assert not startup.collect_when_idle(startup.IDLE_S / 4)
    assert gc.get_count()[2] == 3
    # A pause: the deferred full pass runs, and only once.
    assert startup.collect_when_idle(startup.IDLE_S)
    assert gc.get_count()[2] == 0
    assert not startup.collect_when_idle(startup.IDLE_S * 10)


def test_the_collectors_schedule_comes_back_when_the_app_ends() -> None:
    before = gc.get_threshold()
    startup.defer_full_collections()
    startup.defer_full_collections()  # a second app in the same process
    assert gc.get_threshold()[2] > 10**6
    startup.resume_full_collections()
    assert gc.get_threshold() == before
    startup.resume_full_collections()
    assert gc.get_threshold() == before


def test_constant_input_still_gets_a_full_collection_in_the_end() -> None:
    startup.defer_full_collections()
    gc.collect()
    _young_passes(startup.FORCE_AFTER - 1)
    assert not startup.collect_when_idle(0.0)
    _young_passes(1)
    assert startup.collect_when_idle(0.0)
    assert gc.get_count()[2] == 0


def test_the_collector_is_held_until_released_and_then_freezes_startup_objects() -> None:
    gc.enable()
    startup.hold_gc()
    assert not gc.isenabled() and startup.gc_held()
    assert not startup.collect_when_idle(startup.IDLE_S * 10)  # held: nothing runs
    startup.release_gc()
    assert gc.isenabled() and not startup.gc_held()
    assert gc.get_freeze_count() > 0
    startup.release_gc()  # only undoes hold_gc, once
    assert gc.isenabled()
