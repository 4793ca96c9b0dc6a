"""After start-up, `serve` and `worker` collect once and freeze what is alive (shorter full collections)."""

from __future__ import annotations

import gc
import weakref

from adapters.runtime.heap import settle_heap, unsettle_heap


class _Cycle:
    me: _Cycle


def test_settling_collects_start_up_garbage_then_freezes_the_survivors() -> None:
    garbage = _Cycle()
    garbage.me = garbage  # only the cyclic collector can free it
    gone = weakref.ref(garbage)
    del garbage
    kept = [object() for _ in range(100)]
    try:
        settle_heap()
        assert gone() is None  # collected first, not frozen for the life of the process
        assert gc.get_freeze_count() >= len(kept)
        assert not any(kept is o for o in gc.get_objects(generation=2))  # out of full collections
    finally:
        unsettle_heap()
    assert gc.get_freeze_count() == 0
