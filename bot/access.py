"""Load a request on behalf of a caller: a request of another workspace does not exist for them."""

from __future__ import annotations

from bot import texts
from bot.commands import Caller
from bot.domain import Brief, VideoRequest
from bot.errors import AlreadyDecided, UnknownRequest
from bot.ports.storage import RequestRepo


async def load_for(requests: RequestRepo, caller: Caller, request_id: str) -> VideoRequest:
    """The request, if it exists in the caller's platform and workspace; else "not found"."""
    request = await requests.get_request(request_id)
    if request is None or not caller.owns(request.target):
        raise UnknownRequest(texts.NOT_FOUND)
    return request


async def latest_brief(requests: RequestRepo, request: VideoRequest) -> Brief:
    brief = await requests.latest_brief(request.id)
    if brief is None:
        raise AlreadyDecided(texts.NO_BRIEF)
    return brief
