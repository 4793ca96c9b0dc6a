"""The heap after start-up: what is alive then stays alive, so the collector stops re-reading it.

Python's cyclic collector walks every tracked object in its oldest generation on a full
collection. After start-up that is some 150,000 objects (modules, classes, the app's
wiring) that will never be garbage, and a full collection took 80-100 ms of the event
loop: when one fell inside a burst of 200 asks it went straight onto the tail of the
first thread messages. Frozen (:func:`gc.freeze`), they are left out, and a full
collection during the burst took about 10 ms. Reference counting still frees them if
they are ever dropped; only cycles among them would stay.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect start-up's garbage once, then keep everything alive out of later collections."""
    gc.collect()
    gc.freeze()


def unsettle_heap() -> None:
    """Undo :func:`settle_heap` (a process that builds and closes several apps: the benchmarks)."""
    gc.unfreeze()
