"""What the API's routes share: the process's wiring, the API's store, the rate limiter, who calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.web.api.problems import Problem
from adapters.web.api.ratelimit import RateLimiter
from adapters.web.api.tokens import Scope, hash_token
from bot import texts
from bot.commands import Actor, Caller
from bot.domain import ReplyTarget
from storage.api_store import SqlApiStore, TokenRecord

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="An API token from `clipdesk tokens create`.")


@dataclass
class ApiContext:
    app: App
    store: SqlApiStore
    limiter: RateLimiter
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run slow follow-up work (moderation, the first brief) after the answer; kept until it ends."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@dataclass(frozen=True)
class Principal:
    """The token a call was made with: its workspace is the tenant, its actor id is who acts."""

    token: TokenRecord

    def caller(self, channel: str = "") -> Caller:
        t = self.token
        return Caller(Actor(t.actor_id, t.name), ReplyTarget(t.platform, t.workspace, channel))

    def require(self, scope: Scope) -> None:
        if scope not in self.token.scopes:
            raise Problem(403, texts.api_scope_missing(scope), slug="missing-scope", title="Missing scope")


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context


async def principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal:
    """Authenticate the bearer token and count the call against its rate limit."""
    context = api_context(request)
    challenge = {"WWW-Authenticate": 'Bearer realm="clipdesk"'}
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Problem(401, texts.API_NO_TOKEN, slug="unauthorized", headers=challenge)
    token = await context.store.token_by_hash(hash_token(credentials.credentials))
    if token is None or not token.active:
        raise Problem(401, texts.API_BAD_TOKEN, slug="unauthorized", headers=challenge)
    wait = context.limiter.take(token.id)
    if wait is not None:
        raise Problem(
            429,
            texts.API_RATE_LIMITED,
            slug="rate-limited",
            headers={"Retry-After": RateLimiter.retry_after(wait)},
        )
    return Principal(token)
