"""Which clip a reviewer decides on."""

from __future__ import annotations

from bot import texts
from bot.domain import Render, RenderStatus, RequestStatus, VideoRequest
from bot.errors import AlreadyDecided, UnknownRequest
from bot.ports.storage import RenderQueue


async def latest_ready(renders: RenderQueue, request: VideoRequest) -> Render | None:
    """The newest finished clip of a request: the one a reviewer decides on."""
    # A shot of a cut is ready for stitching, not for review: only whole clips are decided on.
    ready = [
        r for r in await renders.renders_for(request.id) if r.status == RenderStatus.READY and r.shot is None
    ]
    return max(ready, key=lambda r: (r.brief_version, r.created_at)) if ready else None


async def render_to_decide(renders: RenderQueue, request: VideoRequest, render_id: str | None) -> Render:
    """The render a decision names (or the latest finished one); older versions are refused."""
    if request.status != RequestStatus.IN_REVIEW:
        raise AlreadyDecided(texts.already(request.status.value, "decide on"))
    latest = await latest_ready(renders, request)
    if latest is None:
        raise AlreadyDecided(texts.NO_CLIP)
    if render_id is None:
        return latest
    render = await renders.get_render(render_id)
    if (
        render is None
        or render.request_id != request.id
        or render.status != RenderStatus.READY
        or render.shot is not None
    ):
        raise UnknownRequest(texts.NOT_THIS_REQUEST)
    if render.brief_version != latest.brief_version:
        raise AlreadyDecided(texts.older_version(render.brief_version, latest.brief_version))
    if render.cut_id is not None and render.id != latest.id and latest.cut_id is not None:
        raise AlreadyDecided(texts.OLDER_CUT)  # a newer cut of the same brief was posted since
    return render
