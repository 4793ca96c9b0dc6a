"""A wired clipdesk for tests: real store and worker, recording chat, file-backed provider."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.runtime.container import App, build_app
from adapters.runtime.settings import Settings
from bot.domain import ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.events import Actor, ButtonPressed, ChatEvent, FormSubmitted, ThreadReply, VideoCommand
from bot.messages import Action
from bot.ports import ApprovalSealer, PostProcessor, VideoProvider
from tests.support.chat import RecordingChat
from tests.support.driving import run_until
from tests.support.post import FilingPostProcessor

REQUESTER = Actor("U_REQ", "@requester")
LEAD = Actor("U_LEAD", "@lead")
STRANGER = Actor("U_OTHER", "@other")
TARGET = ReplyTarget("test", "W1", "C1")


def test_settings(tmp_path: Path, db_url: str, **overrides: object) -> Settings:
    settings = Settings(_env_file=None)
    settings.data_dir = tmp_path / "data"
    settings.database_url = db_url
    settings.poll_start_seconds = 0.01
    settings.poll_cap_seconds = 0.05
    settings.lease_seconds = 5.0
    settings.retry_base_seconds = 0.02
    settings.retry_cap_seconds = 0.1
    settings.provider = "filejob"
    settings.watermark = False
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper that pytest must not collect


@dataclass
class Harness:
    app: App
    chat: RecordingChat
    tmp: Path

    async def ask(
        self, text: str, actor: Actor = REQUESTER, event_id: str | None = None
    ) -> VideoRequest | None:
        before = {r.id for r in await self.app.store.requests.open_requests("test", "W1", actor.user_id)}
        await self.handle(VideoCommand(TARGET, actor, text, event_id or new_id("evt")))
        after = await self.app.store.requests.open_requests("test", "W1", actor.user_id)
        fresh = [r for r in after if r.id not in before]
        return fresh[-1] if fresh else None

    async def handle(self, event: ChatEvent) -> None:
        """One chat event through the core, then everything it queued for the thread delivered."""
        await self.app.conversation.handle(event)
        await self.app.deliverer.drain()

    async def press(
        self,
        action: Action,
        request: VideoRequest,
        actor: Actor = REQUESTER,
        render_id: str | None = None,
        message_ref: str | None = None,
    ) -> None:
        await self.handle(
            ButtonPressed(request.target, actor, action, request.id, render_id, message_ref, trigger="t")
        )

    async def submit(
        self,
        action: Action,
        request: VideoRequest,
        values: dict[str, str],
        actor: Actor = REQUESTER,
        render_id: str | None = None,
    ) -> None:
        await self.handle(FormSubmitted(request.target, actor, action, request.id, values, render_id))

    async def reply(self, request: VideoRequest, text: str, actor: Actor = REQUESTER) -> None:
        await self.handle(ThreadReply(request.target, actor, text, new_id("evt")))

    async def run_until(self, request_id: str, states: Sequence[RequestStatus]) -> VideoRequest:
        return await run_until(self.app, request_id, states)

    async def request(self, request_id: str) -> VideoRequest:
        found = await self.app.store.requests.get_request(request_id)
        assert found is not None
        return found

    async def close(self) -> None:
        await self.app.close()


async def make_harness(
    tmp_path: Path,
    db_url: str,
    *,
    providers: dict[str, VideoProvider] | None = None,
    post: PostProcessor | None = None,
    sealer: ApprovalSealer | None = None,
    **settings: object,
) -> Harness:
    from tests.support.providers import FileJobProvider

    chat = RecordingChat("test")
    config = test_settings(tmp_path, db_url, **settings)
    if providers is None:
        providers = {"filejob": FileJobProvider(tmp_path / "jobs")}
    from storage.media import LocalMediaStore

    media = LocalMediaStore(config.media_dir)
    app = await build_app(
        config,
        chat_ports=[chat],
        providers=providers,
        postprocessor=post or FilingPostProcessor(media),
        sealer=sealer,
        migrate=False,
    )
    return Harness(app, chat, tmp_path)
