"""How many objects the garbage collector tracks, for tests of values kept where it does not
walk."""

from __future__ import annotations

import gc
from collections.abc import Callable


def tracked_objects_added(action: Callable[[], object]) -> int:
    """How many more objects the collector tracks right after ``action`` than before it, with no
    collection in between: a value kept where the collector does not walk adds none, not even
    until the collector's first look at it (which is when a tuple of plain values stops being
    tracked, so each step of the daemon's collector walked every such row made since the
    last)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        action()
        return len(gc.get_objects()) - before
    finally:
        if enabled:
            gc.enable()
