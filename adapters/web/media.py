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
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.types import Receive, Scope, Send

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
        handle = await asyncio.to_thread(_open_or_none, path)
        if handle is None:  # removed since it was found (retention)
            return JSONResponse({"error": "not found"}, status_code=404)
        return OneFileResponse(
            handle,
            path,
            media_type="video/mp4",
            headers={"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff"},
        )

    return router


def _open_or_none(path: Path) -> BinaryIO | None:
    try:
        return path.open("rb")
    except FileNotFoundError:
        return None


class OneFileResponse(FileResponse):
    """A FileResponse whose headers and bytes come from one open file.

    An approval re-signs its clip in place (a new file renamed over the name, see
    ``adapters.media.factory``). Starlette's FileResponse stats the name, then opens it: a
    rename in between sent the old clip's Content-Length with the new clip's bytes, and the
    server cut the response off mid-clip. Here the route opens the clip once; its length,
    validators and bytes are that file's, whole, whatever is renamed over the name meanwhile.
    """

    def __init__(self, handle: BinaryIO, path: Path, **kwargs: Any) -> None:
        super().__init__(path, stat_result=os.fstat(handle.fileno()), **kwargs)
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Never "send this path" (the pathsend extension): the server would open the name again.
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            self._handle.close()

    @contextlib.asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        self._handle.seek(0)
        yield anyio.wrap_file(self._handle)
