"""The outbox: post finished clips and failures into their threads, once.

A render becomes ready and its outbox entry is written in the same
transaction, so a process that dies between rendering and posting leaves the
entry behind and the next tick posts it. Entries are leased like renders, so
two replicas never post the same one at the same time; the entry's key goes to
the chat adapter, which drops a repeat where the platform allows it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot import views
from bot.backoff import backoff_delay
from bot.chat import ChatRouter
from bot.domain import AuditEvent, Delivery, ReplyTarget
from bot.policy import Policy
from bot.ports import Clock, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    owner: str
    lease_seconds: float = 120.0
    batch: int = 10
    max_attempts: int = 8


class Deliverer:
    def __init__(
        self,
        *,
        store: Store,
        chat: ChatRouter,
        clock: Clock,
        config: DeliveryConfig,
        rng: random.Random | None = None,
        policy_for: Callable[[ReplyTarget], Policy] | None = None,
    ) -> None:
        self.policy_for = policy_for
        self.store = store
        self.chat = chat
        self.clock = clock
        self.config = config
        self._rng = rng or random.Random()

    async def deliver_once(self) -> int:
        """Post every due outbox entry this process has a chat adapter for; return how many went out."""
        entries = await self.store.claim_deliveries(
            self.config.owner,
            self.clock.now(),
            self.config.lease_seconds,
            self.config.batch,
            self.chat.platforms,
        )
        sent = 0
        for entry in entries:
            try:
                ref = await self._send(entry)
            except Exception as exc:
                attempts = entry.attempts + 1
                give_up = attempts >= self.config.max_attempts
                delay = backoff_delay(attempts, base=2.0, cap=600.0, rng=self._rng)
                log.exception(
                    "delivery %s (%s) failed, attempt %d%s",
                    entry.key,
                    entry.request_id,
                    attempts,
                    "; giving up" if give_up else "",
                )
                await self.store.delivery_failed(
                    entry.id,
                    self.config.owner,
                    str(exc),
                    self.clock.now() + timedelta(seconds=delay),
                    give_up,
                )
                if give_up:
                    await self.store.audit(
                        AuditEvent(
                            kind="delivery.abandoned",
                            actor="clipdesk",
                            request_id=entry.request_id,
                            platform=entry.platform,
                            data={"key": entry.key, "error": str(exc)},
                        )
                    )
                continue
            await self.store.delivered(entry.id, self.config.owner, ref)
            sent += 1
        return sent

    def _disclosure(self, target: ReplyTarget) -> str:
        return self.policy_for(target).disclosure if self.policy_for else ""

    async def _send(self, entry: Delivery) -> str:
        request = await self.store.get_request(entry.request_id)
        if request is None:
            raise LookupError(f"request {entry.request_id} is gone")
        chat = self.chat.for_target(request.target)
        if entry.kind == "clip":
            render = await self.store.get_render(str(entry.payload["render_id"]))
            if render is None or render.clip_path is None:
                raise LookupError(f"render {entry.payload['render_id']} has no clip")
            brief = await self.store.get_brief(render.brief_id)
            if brief is None:
                raise LookupError(f"brief {render.brief_id} is gone")
            ref = await chat.upload_clip(
                request.target,
                Path(render.clip_path),
                views.clip_message(render, brief, request, self._disclosure(request.target)),
                key=entry.key,
            )
            if request.status_message:
                try:
                    await chat.update(
                        request.target,
                        request.status_message,
                        views.status_message(render, note="review below"),
                    )
                except Exception as exc:  # the clip is out; a stale status line is cosmetic
                    log.warning("could not update the status of %s: %s", request.id, exc)
            return ref
        if entry.kind == "failed":
            return await chat.post(
                request.target,
                views.failed_message(request, str(entry.payload.get("reason", ""))),
                key=entry.key,
            )
        return await chat.post(
            request.target, views.notice(str(entry.payload.get("text", ""))), key=entry.key
        )
