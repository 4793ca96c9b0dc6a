"""Put queued renders straight into a store (for queue, crash and benchmark runs)."""

from __future__ import annotations

from datetime import datetime

from bot.domain import (
    Brief,
    Render,
    ReplyTarget,
    RequestOptions,
    RequestStatus,
    Shot,
    VideoRequest,
    new_id,
)
from storage.repository import SqlStore

R = RequestStatus


async def seed_queued(
    store: SqlStore,
    count: int,
    *,
    provider: str = "filejob",
    seconds: int = 4,
    target: ReplyTarget | None = None,
) -> list[str]:
    """Create ``count`` requests, each with one brief and one queued render; return the render ids."""
    target = target or ReplyTarget("test", "W1", "C1", "T1")
    ids: list[str] = []
    for i in range(count):
        request = VideoRequest(
            id=new_id("req"),
            target=target.in_thread(f"T{i}"),
            requester="U1",
            raw_text=f"clip {i}",
            options=RequestOptions(seconds=seconds),
            status=R.QUEUED,
        )
        brief = Brief(
            request_id=request.id,
            version=1,
            prompt=f"clip {i}",
            subject="s",
            setting="s",
            style="s",
            lighting="s",
            camera="c",
            negative_prompt="",
            seconds=seconds,
            aspect="16:9",
            shots=(Shot(1, float(seconds), "shot", "static"),),
        )
        render = Render(
            id=new_id("rnd"),
            request_id=request.id,
            brief_id=brief.id,
            brief_version=1,
            provider=provider,
            model=f"{provider}-1",
            seconds=seconds,
            size="1280x720",
        )
        # Seeded straight into the queue: test data, not a request's life (no events).
        async with store.transaction() as tx:
            await tx.add_request(request)
            await tx.add_brief(brief)
            await tx.add_renders(request, [render])
        ids.append(render.id)
    return ids


async def claim(store: SqlStore, owner: str, now: datetime, lease_seconds: float, limit: int) -> list[Render]:
    """Lease up to ``limit`` due renders to ``owner`` the way a worker's claim does."""
    async with store.transaction() as tx:
        return [work.render for work in await tx.claim_work(owner, now, lease_seconds, limit)]
