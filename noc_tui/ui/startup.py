"""Process start to the dashboard's first frame: the cyclic garbage collector waits.

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
