"""At most one paid job per render attempt, on the adapters' side (issue 10).

Each create carries the render's idempotency key where the API takes one; a create that
ends ambiguously raises ``SubmissionUncertain``; ``find`` locates what it may have made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.providers.openai_videos import OpenAIVideosProvider
from adapters.providers.registry import paid_providers
from adapters.providers.runway import RunwayProvider, make_client
from adapters.runtime.settings import Settings
from bot.errors import ReconcileUnsupported, SubmissionUncertain
from bot.ports import RenderSpec
from tests.fakes.openai import FakeOpenAI
from tests.fakes.runway import FakeRunway
from tests.support.harness import test_settings
from tests.support.specs import bottle_spec


def keyed(spec: RenderSpec, key: str = "rnd_1:1") -> RenderSpec:
    return replace(spec, idempotency_key=key)


@pytest.fixture
async def openai(tmp_path: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmp_path / "openai", steps=1) as fake:
        yield fake


async def test_openai_sends_the_key_and_a_504_after_create_is_uncertain_then_found(
    openai: FakeOpenAI,
) -> None:
    provider = OpenAIVideosProvider(openai.client())
    spec = keyed(bottle_spec(model="sora-2"))
    openai.faults.fail_after_create(504)
    with pytest.raises(SubmissionUncertain, match="504"):
        await provider.submit(spec)
    [create] = openai.calls_to("POST", "/v1/videos")
    assert create.headers["idempotency-key"] == "rnd_1:1"
    [made] = openai.videos
    assert await provider.find(spec) == made  # exact: one job with these inputs since the intent
    assert len(openai.videos) == 1


async def test_a_gateway_that_honours_the_key_answers_a_resent_create_with_the_first_job(
    openai: FakeOpenAI,
) -> None:
    openai.faults.idempotency = True
    provider = OpenAIVideosProvider(openai.client(), idempotent_gateway=True)
    assert provider.capabilities().idempotent_submit
    spec = keyed(bottle_spec(model="sora-2"))
    openai.faults.fail_after_create(502)
    with pytest.raises(SubmissionUncertain):
        await provider.submit(spec)
    again = await provider.submit(spec)  # safe only because the gateway honours the key
    assert list(openai.videos) == [again]


async def test_openai_find_refuses_to_guess_between_two_identical_jobs(openai: FakeOpenAI) -> None:
    provider = OpenAIVideosProvider(openai.client())
    spec = keyed(bottle_spec(model="sora-2"))
    await provider.submit(spec)
    await provider.submit(keyed(spec, "rnd_2:1"))  # a variant: same brief, same inputs
    with pytest.raises(ReconcileUnsupported, match="2 jobs match"):
        await provider.find(spec)


async def test_openai_find_ignores_jobs_made_before_the_intent(openai: FakeOpenAI) -> None:
    provider = OpenAIVideosProvider(openai.client())
    spec = keyed(bottle_spec(model="sora-2"))
    earlier = await provider.submit(replace(spec, idempotency_key="rnd_1:0"))  # attempt 0 failed
    openai.videos[earlier].created_at -= 120
    assert await provider.find(spec, since=datetime.now(UTC)) is None  # nothing new: safe to submit


async def test_a_create_cut_off_mid_flight_left_a_job_that_find_returns(openai: FakeOpenAI) -> None:
    # As when a worker is killed during a slow create: the job exists, the answer never arrived.
    openai.faults.create_delay = 30.0
    provider = OpenAIVideosProvider(openai.client())
    spec = keyed(bottle_spec(model="sora-2"))
    task = asyncio.create_task(provider.submit(spec))
    while not openai.videos:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    openai.faults.create_delay = 0.0
    fresh = OpenAIVideosProvider(openai.client())  # a new process: no memory of the intent
    intent = datetime.fromtimestamp(time.time() - 60, UTC)
    assert await fresh.find(spec, since=intent) == next(iter(openai.videos))


async def test_runway_sends_the_key_a_504_after_create_is_uncertain_and_find_says_it_cannot_tell() -> None:
    async with FakeRunway() as runway:
        provider = RunwayProvider(make_client(api_key=runway.api_key, base_url=runway.base_url))
        spec = keyed(bottle_spec(model="gen4.5", seconds=5))
        runway.faults.fail_after_create(504)
        with pytest.raises(SubmissionUncertain):
            await provider.submit(spec)
        assert runway.calls_to("/v1/text_to_video")[0].headers["Idempotency-Key"] == "rnd_1:1"
        assert runway.created == 1
        with pytest.raises(ReconcileUnsupported):
            await provider.find(spec)
        assert not provider.capabilities().idempotent_submit and provider.reconciliation == "uncertain"


def test_every_provider_client_gets_the_configured_per_call_timeout(tmp_path: Path) -> None:
    assert Settings(_env_file=None).provider_timeout_seconds == 30.0
    settings = test_settings(
        tmp_path,
        "sqlite://",
        provider_timeout_seconds=7.0,
        openai_api_key="sk",
        openai_base_url="http://127.0.0.1:9/v1",
        runwayml_api_secret="k",
    )
    providers = paid_providers(settings)
    assert providers["openai"]._client.timeout == 7.0  # type: ignore[attr-defined]
    assert providers["runway"]._client.timeout == 7.0  # type: ignore[attr-defined]
