"""At most one paid job per render attempt, through the real worker and each provider's real SDK.

A create can end ambiguously: the gateway made the job and then answered 504, or the
worker died while a slow create was in flight. The intent to submit is saved first, so
the next attempt reconciles before it ever submits again: the OpenAI-compatible API can
list its jobs (the job is found and adopted); Runway cannot look a task up, so the render
is failed as "submission uncertain", its estimate counted, and Retry is an approver's call.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import RenderStatus, RequestStatus
from bot.messages import Action
from tests.e2e.paid_fakes import PaidFake, running
from tests.e2e.test_providers_through_worker import ASK, audit_of, harness_for, spawn_settings_worker
from tests.support.waiting import wait_for

R = RequestStatus


@pytest.fixture(params=["openai", "runway"])
async def paid(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PaidFake]:
    async with running(request.param, tmp_path) as fake:
        yield fake


async def _outcome_is_one_paid_job(h, paid: PaidFake, request_id: str) -> None:  # type: ignore[no-untyped-def]
    done = await h.run_until(request_id, [R.IN_REVIEW, R.FAILED])
    assert len(paid.jobs()) == 1  # whatever happened, the provider made (and bills) one job
    [render] = await h.app.store.renders.renders_for(request_id)
    if paid.name == "openai":  # the API lists its jobs: the one job is found and adopted
        assert done.status == R.IN_REVIEW and render.status == RenderStatus.READY
        assert render.remote_id == paid.jobs()[0]
        [submitted] = await audit_of(h, "render.submitted")
        assert submitted["reconciled"] is True
        return
    # Runway cannot say whether the create went through: never guess, never pay twice.
    assert done.status == R.FAILED and render.uncertain and render.remote_id is None
    assert render.cost_actual is None and render.cost_estimate > 0  # the estimate counts
    [failed] = await audit_of(h, "render.failed")
    assert failed["uncertain"] is True
    shown = h.chat.of_kind("post")[-1].message
    assert "did not confirm whether it started" in shown.body
    assert shown.buttons[0].action == Action.RETRY


async def test_a_create_answered_504_after_making_its_job_is_paid_for_once(
    paid: PaidFake, tmp_path: Path, sqlite_url: str
) -> None:
    paid.server.faults.fail_after_create(504)  # type: ignore[attr-defined]
    h = await harness_for(tmp_path, sqlite_url, paid, auto_render_max_cost=10.0)
    try:
        request = await h.ask(ASK)
        assert request is not None
        await _outcome_is_one_paid_job(h, paid, request.id)
        assert paid.submit_calls() == 1
    finally:
        await h.close()


@pytest.mark.slow
async def test_a_worker_killed_during_a_slow_create_leaves_one_paid_job(
    paid: PaidFake, tmp_path: Path, sqlite_url: str
) -> None:
    faults = paid.server.faults  # type: ignore[attr-defined]
    faults.create_delay = 60.0  # the job exists at once; the answer takes a minute
    h = await harness_for(tmp_path, sqlite_url, paid, auto_render_max_cost=10.0, lease_seconds=1.0)
    try:
        request = await h.ask(ASK)
        assert request is not None and request.status == R.QUEUED
        victim = await spawn_settings_worker(
            tmp_path, sqlite_url, "victim", {**paid.env(), "CLIPDESK_PROVIDER": paid.name}
        )

        async def create_in_flight() -> bool:
            [render] = await h.app.store.renders.renders_for(request.id)
            return bool(render.submit_intent_at and paid.jobs())

        await wait_for(create_in_flight)
        victim.send_signal(signal.SIGKILL)
        assert await victim.wait() == -signal.SIGKILL
        faults.create_delay = 0.0

        await _outcome_is_one_paid_job(h, paid, request.id)
        assert paid.submit_calls() == 1  # the fresh worker reconciled instead of creating again
    finally:
        await h.close()
