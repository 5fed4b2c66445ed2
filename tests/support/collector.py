"""How many objects the garbage collector tracks, for tests of values kept where it does not
walk."""

from __future__ import annotations

import gc
from collections.abc import Callable


def tracked_objects_added(action: Callable[[], object]) -> int:
    """How many more objects the collector tracks after ``action`` than before it, each count
    taken after a full collection (so a row it stops tracking at its first look counts not)."""
    gc.collect()
    before = len(gc.get_objects())
    action()
    gc.collect()
    return len(gc.get_objects()) - before
