"""Free the leases a crashed console run on this machine left, so `clipdesk chat` resumes its renders at once.

Lease owners are ``host:pid``. A lease held by a process of this host that no
longer exists can only be stale; a lease of another host is left to expire.
"""

from __future__ import annotations

import logging
import os
import socket

from adapters.runtime.container import App

log = logging.getLogger(__name__)


def _dead_here(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def release_dead_local_leases(app: App) -> list[str]:
    freed: list[str] = []
    for render_id, owner in await app.store.renders.leases():
        if _dead_here(owner):
            await app.store.renders.release_lease(render_id, owner)
            freed.append(render_id)
    if freed:
        log.warning("resuming %d render(s) an earlier run left unfinished", len(freed))
    return freed
