"""Wire the core to its adapters from :class:`Settings`: one place that knows every concrete class."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from adapters.runtime.config_check import validate
from adapters.runtime.settings import Settings, split_list
from bot.chat import ChatRouter
from bot.clock import SystemClock
from bot.conversation import Conversation
from bot.delivery import Deliverer, DeliveryConfig
from bot.domain import ReplyTarget
from bot.moderation import ModerationChain
from bot.outcomes import WorkerConfig
from bot.policy import Budgets, Policy
from bot.policy_file import PolicySet, load_policy
from bot.ports import ApprovalSealer, ChatPort, Clock, Moderator, PostProcessor, PromptRefiner, VideoProvider
from bot.refiner import OfflineRefiner
from bot.routing import ProviderRouter
from bot.service import RequestService
from bot.worker import RenderWorker
from storage.database import make_engine, upgrade
from storage.media import LocalMediaStore
from storage.repository import SqlStore

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class App:
    """Everything one clipdesk process runs, built once at start-up."""

    settings: Settings
    store: SqlStore
    media: LocalMediaStore
    providers: ProviderRouter
    chat: ChatRouter
    service: RequestService
    conversation: Conversation
    worker: RenderWorker
    deliverer: Deliverer
    clock: Clock
    closers: list[Callable[[], object]] = field(default_factory=list)

    async def close(self) -> None:
        await self.worker.stop()
        for close in self.closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        await self.store.close()


def base_policy(settings: Settings) -> Policy:
    """The policy the environment describes; ``clipdesk.toml`` refines it per workspace and channel."""
    return Policy(
        approvers=frozenset(split_list(settings.approvers)),
        self_approval=settings.self_approval,
        auto_render_max_cost=settings.auto_render_max_cost,
        budgets=Budgets(
            settings.budget_user_monthly, settings.budget_channel_monthly, settings.budget_workspace_monthly
        ),
        blocked_terms=tuple(split_list(settings.blocked_terms)),
        allow_real_people=settings.allow_real_people,
        default_provider=settings.provider,
        review_expiry_hours=settings.review_expiry_hours,
    )


def _with_platform_approvers(policy: Policy, users: str, groups: str) -> Policy:
    return replace(
        policy,
        approvers=policy.approvers | frozenset(split_list(users)),
        approver_groups=policy.approver_groups | frozenset(split_list(groups)),
    )


def load_policies(settings: Settings) -> PolicySet:
    """The policy file if one is configured (or ``./clipdesk.toml`` exists); raises on any mistake in it."""
    base = base_policy(settings)
    path = settings.policy_file or (Path("clipdesk.toml") if Path("clipdesk.toml").exists() else None)
    return load_policy(path, base) if path else PolicySet(base)


def policy_resolver(settings: Settings, policies: PolicySet | None = None) -> Callable[[ReplyTarget], Policy]:
    """Pick the policy for a thread, adding the per-platform approver settings of the environment."""
    policies = policies or load_policies(settings)
    extras = {
        "slack": (settings.slack_approvers, settings.slack_approver_groups),
        "discord": (settings.discord_approvers, settings.discord_approver_roles),
    }

    def resolve(target: ReplyTarget) -> Policy:
        policy = policies.for_target(target)
        users, groups = extras.get(target.platform, ("", ""))
        return _with_platform_approvers(policy, users, groups) if users or groups else policy

    return resolve


def build_providers(settings: Settings) -> dict[str, VideoProvider]:
    """The animatic always; each paid provider when its key is set."""
    from adapters.providers.animatic import AnimaticProvider

    providers: dict[str, VideoProvider] = {
        "animatic": AnimaticProvider(settings.media_dir / "animatic"),
    }
    providers.update(_paid_providers(settings))
    return providers


def _paid_providers(settings: Settings) -> dict[str, VideoProvider]:
    from adapters.providers.registry import paid_providers

    return paid_providers(settings)


def provider_order(settings: Settings, available: Sequence[str]) -> list[str]:
    order = [settings.provider, *split_list(settings.provider_order)]
    order += [name for name in available if name not in order]
    return [name for name in dict.fromkeys(order) if name in available]


def build_refiner(settings: Settings) -> PromptRefiner:
    if settings.refiner == "offline" or (settings.refiner == "auto" and not settings.openai_api_key):
        return OfflineRefiner()
    from adapters.llm.factory import openai_refiner

    return openai_refiner(settings)


def build_moderator(settings: Settings) -> Moderator:
    """The external moderator; the workspace's own rules are applied by the core per target."""
    moderators: list[Moderator] = []
    if settings.moderation == "openai" or (settings.moderation == "auto" and settings.openai_api_key):
        from adapters.llm.factory import openai_moderator

        moderators.append(openai_moderator(settings))
    return ModerationChain(moderators)


def build_postprocessor(
    settings: Settings, media: LocalMediaStore, providers: ProviderRouter
) -> PostProcessor:
    from adapters.media.factory import postprocessor

    return postprocessor(settings, media, providers)


def build_sealer(settings: Settings) -> ApprovalSealer | None:
    from adapters.media.factory import approval_sealer

    return approval_sealer(settings)


async def build_app(
    settings: Settings,
    *,
    chat_ports: Sequence[ChatPort] = (),
    providers: dict[str, VideoProvider] | None = None,
    postprocessor: PostProcessor | None = None,
    sealer: ApprovalSealer | None = None,
    refiner: PromptRefiner | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    owner: str | None = None,
) -> App:
    url = settings.effective_database_url
    policies = load_policies(settings)  # before anything starts: a bad policy file stops start-up
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await asyncio.to_thread(upgrade, url)
    store = SqlStore(make_engine(url))
    media = LocalMediaStore(settings.media_dir, settings.public_url)
    clock = clock or SystemClock()
    available = providers if providers is not None else build_providers(settings)
    validate(settings, {name: provider.capabilities() for name, provider in available.items()})
    router = ProviderRouter(available, provider_order(settings, list(available)))
    chat = ChatRouter(chat_ports)
    service = RequestService(
        store=store,
        providers=router,
        refiner=refiner or build_refiner(settings),
        moderator=build_moderator(settings),
        chat=chat,
        policy_for=policy_resolver(settings, policies),
        clock=clock,
        # Tests that inject their own post-processor get no sealer unless they pass one.
        sealer=sealer if sealer is not None or postprocessor is not None else build_sealer(settings),
    )
    owner = owner or settings.worker_id or worker_name()
    post = postprocessor or build_postprocessor(settings, media, router)
    worker = RenderWorker(
        store=store,
        providers=router,
        media=media,
        chat=chat,
        postprocessor=post,
        clock=clock,
        config=WorkerConfig(
            owner=owner,
            lease_seconds=settings.lease_seconds,
            concurrency=settings.worker_concurrency,
            max_attempts=settings.max_attempts,
            retry_base=settings.retry_base_seconds,
            retry_cap=settings.retry_cap_seconds,
            poll_start=settings.poll_start_seconds,
            poll_cap=settings.poll_cap_seconds,
            render_timeout=settings.render_timeout_seconds,
            # With a webhook secret, OpenAI pushes completion; polling only backs it up.
            qc_regenerate_once=settings.qc_regenerate_once,
            push_providers=frozenset({"openai"}) if settings.openai_webhook_secret else frozenset(),
        ),
    )
    closers: list[Callable[[], object]] = []
    for provider in available.values():
        # Providers that hold SDK clients close them on shutdown; the animatic stops its pool.
        for name in ("aclose", "close"):
            if callable(getattr(provider, name, None)):
                closers.append(getattr(provider, name))
                break
    if callable(getattr(post, "close", None)):
        closers.append(post.close)  # type: ignore[attr-defined]
    deliverer = Deliverer(
        store=store, chat=chat, clock=clock, config=DeliveryConfig(owner=owner), policy_for=service.policy_for
    )
    return App(
        settings=settings,
        store=store,
        media=media,
        providers=router,
        chat=chat,
        service=service,
        conversation=Conversation(service),
        worker=worker,
        deliverer=deliverer,
        closers=closers,
        clock=clock,
    )
