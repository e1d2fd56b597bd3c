"""The dashboard and the cyclic garbage collector: held at start, full passes at idle.

Start. Process start to the dashboard's first frame: the collector waits.

Starting the dashboard imports Textual, pydantic and the data layer and builds the
first carrier list: hundreds of thousands of objects that live for the whole session,
next to no garbage. With the collector on, ~200 collections ran on the way to the
first frame (55-67 ms, one generation-2 pass of 22-31 ms, measured at 2,000
carriers), walking those objects again and again. So the collector is held from the
command line's first step until just after the first frame of the carrier list (see
NocApp.first_frame_shown), then runs as usual. No Textual import here: the CLI calls
this before anything heavy is imported.
"""

from __future__ import annotations

import gc

_held = False

# In use. A full (generation-2) collection walks every live object: the render caches
# of the tables and screens an operator has opened hold some 300,000, and one pass
# took 30-260 ms on 2 cores, landing on whatever key was pressed (Enter on a carrier
# went from ~60 ms to ~300 ms). Generations 0 and 1 still collect as usual (young
# cycles, a few ms); full passes wait until no key or click came for IDLE_S, or, so
# that memory stays bounded under constant typing, until FORCE_AFTER young passes.
# Each Enter left ~0.5 MB of cycles for a full pass: with 500 the Enter benchmark's
# process passed 150 MB after 200 Enters; with 50 the forced passes (up to ~0.4 s, the
# caches having grown) hit the p95; 100 kept it at 117 MB with p95 80 ms.
IDLE_S = 2.0
FORCE_AFTER = 100  # generation-1 collections without a full one (about 80 Enters)
_NEVER = 1_000_000_000  # generation-2 threshold: no full pass of its own accord


def hold_gc() -> None:
    """Pause automatic collection until `release_gc` (no-op if it was already off)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_gc() -> None:
    """Collect as usual again; only undoes `hold_gc`, safe to call more than once.

    What startup made lives as long as the app: frozen (moved to the permanent
    generation), later collections do not walk it again, so they stay short."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def gc_held() -> bool:
    return _held


_saved_threshold: tuple[int, int, int] | None = None


def defer_full_collections() -> None:
    """Full collections only through `collect_when_idle` (young ones as usual), until
    `resume_full_collections`."""
    global _saved_threshold
    gen0, gen1, gen2 = gc.get_threshold()
    if _saved_threshold is None:
        _saved_threshold = (gen0, gen1, gen2)
    gc.set_threshold(gen0, gen1, _NEVER)


def resume_full_collections() -> None:
    """The collector's own schedule again (the app has ended; safe to call twice)."""
    global _saved_threshold
    if _saved_threshold is not None:
        gc.set_threshold(*_saved_threshold)
        _saved_threshold = None


def collect_when_idle(idle_s: float) -> bool:
    """Run the deferred full collection if input has paused for IDLE_S (and young
    passes ran since the last one), or if it has waited FORCE_AFTER young passes.
    True if it ran."""
    if not gc.isenabled():
        return False
    waited = gc.get_count()[2]  # generation-1 collections since the last full one
    if (idle_s >= IDLE_S and waited) or waited >= FORCE_AFTER:
        gc.collect()
        return True
    return False
