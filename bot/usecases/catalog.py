"""Build the use cases once, each with only the ports it needs; entry points share one set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.briefs import BriefWriter
from bot.content import ContentCheck
from bot.domain import ReplyTarget
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.llm import PromptRefiner, ScriptTranslator
from bot.ports.media import Clock, Renarrator
from bot.ports.storage import (
    AuditLog,
    CutRepo,
    IntakeQueue,
    RenderQueue,
    RequestRepo,
    UnitOfWork,
    UsageLedger,
)
from bot.queueing import Queueing
from bot.usecases.appeals import Appeals
from bot.usecases.cancel import Cancel
from bot.usecases.confirm import Confirm
from bot.usecases.decide import Decisions
from bot.usecases.expiry import ExpireReviews
from bot.usecases.intake import Intake
from bot.usecases.narration import RetryNarration
from bot.usecases.queries import Queries
from bot.usecases.refining import Refining
from bot.usecases.revise import Revise
from bot.usecases.shots import Shots
from bot.usecases.variants import Variants


@dataclass(frozen=True)
class Ports:
    """The persistence ports the use cases are built from (one store may implement them all)."""

    uow: UnitOfWork
    requests: RequestRepo
    intake: IntakeQueue
    renders: RenderQueue
    usage: UsageLedger
    audit: AuditLog
    cuts: CutRepo | None = None  # multi-shot cuts (versions are numbered from the latest)


@dataclass(frozen=True)
class UseCases:
    intake: Intake
    revise: Revise
    confirm: Confirm
    decisions: Decisions
    cancel: Cancel
    appeals: Appeals
    expiry: ExpireReviews
    queries: Queries
    refining: Refining
    shots: Shots | None = None  # per-shot re-render of multi-shot cuts (needs the cuts store)
    variants: Variants | None = None
    narration: RetryNarration | None = None  # Retry narration (needs a media layer that can renarrate)


def build_usecases(
    ports: Ports,
    *,
    planner: Planner,
    content: ContentCheck,
    refiner: PromptRefiner,
    policy_for: Callable[[ReplyTarget], Policy],
    clock: Clock,
    owner: str,
    intake_lease_seconds: float = 60.0,
    intake_concurrency: int = 8,
    fallback_refiner: PromptRefiner | None = None,
    offline_by_setup: bool = False,
    renarrator: Renarrator | None = None,
) -> UseCases:
    queueing = Queueing(ports.uow, policy_for, clock, ports.cuts)
    writer = BriefWriter(
        uow=ports.uow,
        requests=ports.requests,
        refiner=refiner,
        fallback=fallback_refiner,
        content=content,
        planner=planner,
        queueing=queueing,
        policy_for=policy_for,
        clock=clock,
        offline_by_setup=offline_by_setup,
        # the prompt writer translates scripts for captions when it can (the OpenAI refiner does)
        translator=refiner if isinstance(refiner, ScriptTranslator) else None,
    )
    refining = Refining(
        writer=writer,
        requests=ports.requests,
        intake=ports.intake,
        audit=ports.audit,
        clock=clock,
        owner=owner,
        lease_seconds=intake_lease_seconds,
    )
    u, q, p, c = ports.uow, ports.requests, policy_for, clock
    return UseCases(
        intake=Intake(
            uow=u,
            requests=q,
            intake=ports.intake,
            planner=planner,
            content=content,
            refining=refining,
            policy_for=p,
            clock=c,
            concurrency=intake_concurrency,
        ),
        revise=Revise(
            uow=u,
            requests=q,
            renders=ports.renders,
            planner=planner,
            refining=refining,
            policy_for=p,
            clock=c,
        ),
        confirm=Confirm(
            uow=u,
            requests=q,
            renders=ports.renders,
            planner=planner,
            queueing=queueing,
            refining=refining,
            policy_for=p,
            clock=c,
        ),
        decisions=Decisions(uow=u, requests=q, renders=ports.renders, policy_for=p, clock=c, cuts=ports.cuts),
        cancel=Cancel(uow=u, requests=q, policy_for=p, clock=c),
        appeals=Appeals(uow=u, requests=q, refining=refining, policy_for=p, clock=c),
        expiry=ExpireReviews(uow=u, requests=q, policy_for=p, clock=c),
        queries=Queries(requests=q, renders=ports.renders, usage=ports.usage, policy_for=p, clock=c),
        refining=refining,
        shots=Shots(
            uow=u, requests=q, renders=ports.renders, cuts=ports.cuts, policy_for=p, clock=c, planner=planner
        )
        if ports.cuts is not None
        else None,
        variants=Variants(uow=u, requests=q, renders=ports.renders, policy_for=p, clock=c),
        narration=RetryNarration(
            uow=u,
            requests=q,
            renders=ports.renders,
            audit=ports.audit,
            renarrator=renarrator,
            policy_for=p,
            clock=c,
        )
        if renarrator is not None
        else None,
    )
