"""``GET /media/clips/{name}``: finished clips, only through links the server signed.

The media folder also holds provider originals (``downloads/``, without
watermark or signature), animatic job files and provenance sidecars (with the
requester's id): none of them has a route. A clip is served only when its
name is a finished clip's and its link's signature and expiry check out.
Answers: 200/206 (ranges, for players), 403 for a missing or forged
signature, 410 for an expired link, 404 for anything that is not a clip.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from adapters.web.limits import client_of
from adapters.web.refusals import RefusalLog
from storage.links import LinkCheck
from storage.media import CLIP_NAME, LocalMediaStore

MAX_CACHE_SECONDS = 3600


def media_router(media: LocalMediaStore, refusals: RefusalLog) -> APIRouter:
    """The route that serves clips from ``media`` behind signed links."""
    router = APIRouter(include_in_schema=False)

    @router.api_route("/media/clips/{name}", methods=["GET", "HEAD"])
    async def clip(
        name: str, request: Request, expires: str | None = None, sig: str | None = None
    ) -> Response:
        if not CLIP_NAME.fullmatch(name):
            return JSONResponse({"error": "not found"}, status_code=404)
        check = media.check_link(name, expires, sig)
        if check != LinkCheck.VALID:
            status = 410 if check == LinkCheck.EXPIRED else 403
            reason = "expired link" if check == LinkCheck.EXPIRED else "missing or invalid link signature"
            refusals.refused(request.method, "/media/clips/…", client_of(request.scope), status, reason)
            error = "this link has expired" if status == 410 else "this link is not valid"
            return JSONResponse({"error": error}, status_code=status)
        path = await asyncio.to_thread(media.servable_clip, name)
        if path is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        assert media.links is not None and expires is not None  # a valid link has both
        max_age = min(media.links.seconds_left(expires), MAX_CACHE_SECONDS)
        return FileResponse(
            path,
            media_type="video/mp4",
            headers={"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff"},
        )

    return router
