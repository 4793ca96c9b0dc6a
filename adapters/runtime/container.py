"""Wire the core to its adapters from :class:`Settings`: one place that knows every concrete class."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from adapters.metrics.exporter import instrument
from adapters.policy.patterns import RegexPatternMatcher
from adapters.runtime.config_check import validate
from adapters.runtime.settings import Settings, split_list
from bot import presenter, sealing
from bot.chat import ChatRouter
from bot.clock import SystemClock
from bot.commands import Caller
from bot.content import ContentCheck
from bot.conversation import Conversation, ReviewLink
from bot.domain import ReplyTarget
from bot.errors import StorageFull, TransientProviderError
from bot.moderation import ModerationChain, PatternMatcher
from bot.outbox import Deliverer, DeliveryConfig, Sink, Subscriptions
from bot.planner import Planner, ProviderRouter
from bot.policy import Budgets, Policy
from bot.policy_file import PolicySet, load_policy
from bot.ports import (
    ApprovalSealer,
    ChatPort,
    Clock,
    CutFinisher,
    Moderator,
    PostProcessor,
    PromptRefiner,
    VariantSheets,
    VideoProvider,
)
from bot.ports.media import Renarrator
from bot.ports.signals import RENDERS, Topics, WorkSignals, outbox_targets
from bot.refiner import OfflineRefiner
from bot.render_context import RenderContext, WorkerConfig
from bot.retry import RetryPolicy
from bot.usecases.catalog import Ports, UseCases, build_usecases
from bot.usecases.unreachable import ThreadUnreachable
from bot.worker import RenderWorker
from storage.database import is_sqlite, make_engine, upgrade
from storage.links import link_signer
from storage.media import LocalMediaStore
from storage.notify import PgListener, SqliteWatcher
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
    planner: Planner
    chat: ChatRouter
    usecases: UseCases
    conversation: Conversation
    worker: RenderWorker
    deliverer: Deliverer
    clock: Clock
    policy_for: Callable[[ReplyTarget], Policy]
    # Wake-ups when other processes commit work (PostgreSQL LISTEN, a SQLite commit watcher).
    signals: WorkSignals | None = None
    closers: list[Callable[[], object]] = field(default_factory=list)

    async def close(self, grace: float = 0.0) -> None:
        await self.worker.stop(grace)
        await self.deliverer.settle()  # deliveries made are recorded before the store closes
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
        draft_first=settings.draft_first,
    )


def _with_platform_approvers(policy: Policy, users: str, groups: str) -> Policy:
    return replace(
        policy,
        approvers=policy.approvers | frozenset(split_list(users)),
        approver_groups=policy.approver_groups | frozenset(split_list(groups)),
    )


def load_policies(settings: Settings, matcher: PatternMatcher | None = None) -> PolicySet:
    """The policy file if one is configured (or ``./clipdesk.toml`` exists); raises on any mistake in it."""
    base = base_policy(settings)
    path = settings.policy_file or (Path("clipdesk.toml") if Path("clipdesk.toml").exists() else None)
    return load_policy(path, base, matcher=matcher or RegexPatternMatcher()) if path else PolicySet(base)


def policy_resolver(settings: Settings, policies: PolicySet | None = None) -> Callable[[ReplyTarget], Policy]:
    """Pick the policy for a thread, adding the per-platform approver settings of the environment."""
    policies = policies or load_policies(settings)
    extras = {
        "slack": (settings.slack_approvers, settings.slack_approver_groups),
        "discord": (settings.discord_approvers, settings.discord_approver_roles),
    }

    def resolve(target: ReplyTarget) -> Policy:
        policy = policies.for_target(target)
        if target.platform == "console" and not policy.has_approvers:
            # The console is one person at one terminal: they review their own clips.
            return replace(policy, self_approval=True)
        users, groups = extras.get(target.platform, ("", ""))
        return _with_platform_approvers(policy, users, groups) if users or groups else policy

    return resolve


def build_providers(settings: Settings) -> dict[str, VideoProvider]:
    """The animatic always; each paid provider when its key is set."""
    from adapters.providers.animatic import AnimaticProvider

    providers: dict[str, VideoProvider] = {
        "animatic": AnimaticProvider(settings.media_dir / "animatic", workers=settings.animatic_workers),
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


def only_video_endpoint(settings: Settings) -> bool:
    """An OpenAI-compatible video endpoint is configured, but no LLM for briefs and moderation."""
    return bool(settings.video_base_url and settings.video_api_key and not settings.openai_api_key)


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


def build_cut_finisher(
    settings: Settings, media: LocalMediaStore, providers: ProviderRouter, post: PostProcessor
) -> CutFinisher:
    """Stitches cuts with the post-processor's mark and signer (a fresh one if a test injected a fake)."""
    from adapters.media.cut_finisher import CutMediaFinisher
    from adapters.media.factory import postprocessor, source_types
    from adapters.media.postprocess import MediaPostProcessor

    media_post = post if isinstance(post, MediaPostProcessor) else postprocessor(settings, media, providers)
    return CutMediaFinisher(media_post, lambda render: media.clip_path(render.id), source_types(providers))


def build_sheets(media: LocalMediaStore) -> VariantSheets:
    from adapters.media.variant_sheets import ContactSheets

    return ContactSheets(media.work_dir("sheets"))


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
    patterns = RegexPatternMatcher()  # h5-web: blocked_patterns vetted at load, matched with a time limit
    policies = load_policies(settings, patterns)  # before anything starts: a bad policy file stops start-up
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await asyncio.to_thread(upgrade, url)
    clock = clock or SystemClock()
    owner = owner or settings.worker_id or worker_name()
    # Clip links are signed and expire (storage/links.py).
    links = link_signer(settings.link_secret, settings.data_dir, settings.link_ttl_seconds)
    media = LocalMediaStore(settings.media_dir, settings.public_url, links)
    available = providers if providers is not None else build_providers(settings)
    validate(settings, {name: provider.capabilities() for name, provider in available.items()})
    router = ProviderRouter(
        available, provider_order(settings, list(available)), max_cut_seconds=settings.max_cut_seconds
    )
    policy_for = policy_resolver(settings, policies)
    warn_if_approval_is_open(settings, policies)
    # Tests that inject their own post-processor get no sealer unless they pass one.
    sealer = sealer if sealer is not None or postprocessor is not None else build_sealer(settings)
    subscriptions = Subscriptions([presenter.SUBSCRIPTION])
    if sealer is not None:
        subscriptions.add(sealing.SUBSCRIPTION)
    store = SqlStore(make_engine(url, pool_size=settings.effective_db_pool_size), subscriptions)
    instrument(store)  # metrics observe committed events and claims; the core does not know
    chat = ChatRouter(chat_ports)
    planner = Planner(router, policy_for)
    post = postprocessor or build_postprocessor(settings, media, router)
    usecases = build_usecases(
        Ports(
            uow=store,
            requests=store.requests,
            intake=store.requests,
            renders=store.renders,
            usage=store.renders,
            audit=store.audit,
            cuts=store.cuts,
        ),
        planner=planner,
        content=ContentCheck(build_moderator(settings), policy_for, patterns),
        refiner=refiner or build_refiner(settings),
        policy_for=policy_for,
        clock=clock,
        owner=owner,
        intake_lease_seconds=settings.intake_lease_seconds,
        intake_concurrency=settings.intake_concurrency,
        # A video gateway alone (no LLM): say so in each thread once, not silently degrade.
        offline_by_setup=refiner is None and only_video_endpoint(settings),
        # Retry narration needs a media layer that can mix a voice under a filed clip.
        renarrator=post if isinstance(post, Renarrator) else None,
    )
    worker = RenderWorker(
        RenderContext(
            queue=store.renders,
            uow=store,
            requests=store.requests,
            providers=router,
            planner=planner,
            media=media,
            post=post,
            clock=clock,
            config=worker_config(settings, owner),
            cuts=store.cuts,
            cutter=build_cut_finisher(settings, media, router, post),
        )
    )
    sinks: list[Sink] = [
        presenter.ThreadPresenter(
            chat=chat,
            requests=store.requests,
            renders=store.renders,
            refs=store.outbox,
            policy_for=policy_for,
            cuts=store.cuts,
            sheets=build_sheets(media),
            unreachable=ThreadUnreachable(uow=store, requests=store.requests, clock=clock),
            review_page=bool(settings.public_url),  # the review page needs a URL people can open
        )
    ]
    if sealer is not None:
        sinks.append(
            sealing.ApprovalSealing(
                sealer=sealer, uow=store, requests=store.requests, renders=store.renders, clock=clock
            )
        )
    # Outgoing webhooks (Standard Webhooks): one more sink, for every process that records events.
    from adapters.webhooks_out.sink import SUBSCRIPTION as WEBHOOKS
    from adapters.webhooks_out.wiring import webhook_sink

    subscriptions.add(WEBHOOKS)
    sinks.append(await webhook_sink(settings, store, media, clock))
    deliverer = Deliverer(
        outbox=store.outbox,
        uow=store,
        sinks=sinks,
        clock=clock,
        config=DeliveryConfig(owner=owner, lease_seconds=settings.delivery_lease_seconds),
    )
    store.on_commit(lambda topics: wake_on(topics, worker, deliverer))
    closers: list[Callable[[], object]] = []
    for provider in available.values():
        # Providers that hold SDK clients close them on shutdown; the animatic stops its pool.
        for name in ("aclose", "close"):
            if callable(getattr(provider, name, None)):
                closers.append(getattr(provider, name))
                break
    if callable(getattr(post, "close", None)):
        closers.append(post.close)  # type: ignore[attr-defined]
    return App(
        settings=settings,
        store=store,
        media=media,
        providers=router,
        planner=planner,
        chat=chat,
        usecases=usecases,
        conversation=Conversation(
            usecases=usecases,
            chat=chat,
            requests=store.requests,
            uow=store,
            review_link=_review_links(settings, clock) if settings.public_url else None,
        ),
        worker=worker,
        deliverer=deliverer,
        clock=clock,
        policy_for=policy_for,
        signals=work_signals(url),
        closers=closers,
    )


def _review_links(settings: Settings, clock: Clock) -> ReviewLink:
    """One-time review page links for the thread's "Open review page" button."""
    from adapters.web.review.links import login_link
    from adapters.web.review.signing import Reviewer

    def link(caller: Caller, request_id: str) -> tuple[str, float]:
        where = caller.where
        reviewer = Reviewer(where.platform, where.workspace, caller.user_id, caller.actor.mention)
        return login_link(settings, reviewer, clock.now(), request_id), settings.review_link_minutes

    return link


def warn_if_approval_is_open(settings: Settings, policies: PolicySet) -> None:
    """Say at start-up when nobody is named to approve: anyone but the requester then may."""
    chats = {
        "Slack": (settings.slack_bot_token, settings.slack_approvers or settings.slack_approver_groups),
        "Discord": (
            settings.discord_bot_token,
            settings.discord_approvers or settings.discord_approver_roles,
        ),
    }
    for name, (enabled, platform_approvers) in chats.items():
        if enabled and not (policies.base.has_approvers or platform_approvers):
            log.warning(
                "approval is open on %s: no approvers are configured, so anyone in a workspace except "
                "the requester may approve its clips; name approvers (CLIPDESK_APPROVERS, the %s "
                "approver settings or `approvers` in clipdesk.toml) to restrict it",
                name,
                name.upper(),
            )


def worker_config(settings: Settings, owner: str) -> WorkerConfig:
    from adapters.providers.registry import push_providers

    return WorkerConfig(
        owner=owner,
        lease_seconds=settings.lease_seconds,
        concurrency=settings.worker_concurrency,
        poll_start=settings.poll_start_seconds,
        poll_cap=settings.poll_cap_seconds,
        render_timeout=settings.render_timeout_seconds,
        call_timeout=settings.provider_call_timeout_seconds,
        qc_regenerate_once=settings.qc_regenerate_once,
        provider_concurrency=settings.provider_concurrency,
        # Providers that push completion (webhooks, ComfyUI's websocket) are polled only as a net.
        push_providers=push_providers(settings),
        retry=RetryPolicy(
            attempts=settings.max_attempts,
            base=settings.retry_base_seconds,
            cap=settings.retry_cap_seconds,
            retry_on=(TransientProviderError, StorageFull),
        ),
    )


def work_signals(url: str) -> WorkSignals | None:
    """How this process learns that others committed work: LISTEN on PostgreSQL, a commit watcher on a
    SQLite file (an in-memory database has no other process)."""
    from sqlalchemy.engine import make_url

    if not is_sqlite(url):
        return PgListener(url)
    database = make_url(url).database
    return SqliteWatcher(database) if database and database != ":memory:" else None


def wake_on(topics: Topics, worker: RenderWorker, deliverer: Deliverer) -> None:
    """Work was committed (here or in another process): start on it now instead of at the next tick.

    The deliverer wakes only for entries it can deliver: every state change writes an entry for
    the thread presenter's platform, and waking every process's deliverer for each would turn the
    wake-ups into a busy loop of empty claims.
    """
    if RENDERS in topics:
        worker.wake()
    targets = outbox_targets(topics)
    if targets is None:
        deliverer.wake()
    else:
        deliverer.wake({sink for sink, route in targets if deliverer.serves(sink, route)})
