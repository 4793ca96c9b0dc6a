"""The provider contract: one suite, run against every VideoProvider adapter and its fake.

What every adapter promises the worker (see ``bot/ports.py`` and ``adapters/providers/faults.py``):
well-formed capabilities; a real MP4 of the asked length and shape; options refused
before anything is spent; a job found again after a submit (or an honest "cannot
tell"); cancel reaching the API where it has one; and each failure mapped to the one
error that makes the worker do the right thing. Where a service has no equivalent
(ComfyUI has no rate limit, the animatic no network), the test says so and skips.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import (
    CapacityError,
    ContentRefused,
    InvalidOptions,
    PermanentProviderError,
    ReconcileUnsupported,
    SubmissionUncertain,
    TransientProviderError,
)
from bot.ports import Continuity, RemoteState, SourceType, Tier, VideoProvider
from tests.fakes.media import decode_to_end
from tests.support.engines import ENGINES, Engine, engine
from tests.support.specs import poll_to_end

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")
REMOTE = [name for name in ENGINES if name != "animatic"]


@pytest.fixture(params=ENGINES)
async def eng(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine(request.param, tmp_path) as running:
        yield running


@pytest.fixture(params=REMOTE)
async def remote(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine(request.param, tmp_path) as running:
        yield running


def _ratio(size: str) -> float:
    width, height = (int(v) for v in size.split("x"))
    return width / height


# ---------------------------------------------------------------------- capabilities


def test_capabilities_are_well_formed(eng: Engine) -> None:
    provider = eng.provider
    assert isinstance(provider, VideoProvider)
    caps = provider.capabilities()
    assert caps.provider == provider.name == eng.name
    assert caps.model().name == caps.default_model
    assert isinstance(caps.source_type, SourceType) and isinstance(caps.idempotent_submit, bool)
    reconciliation = getattr(provider, "reconciliation", "exact")
    assert reconciliation in ("exact", "uncertain")
    for model in caps.models:
        assert model.durations and all(isinstance(d, int) and d > 0 for d in model.durations)
        assert list(model.durations) == sorted(set(model.durations))
        assert model.price_per_second >= 0 and all(p >= 0 for p in model.quality_prices.values())
        assert isinstance(model.tier, Tier) and model.continuity <= frozenset(Continuity)
        sizes = [model.sizes, *model.quality_sizes.values()]
        for table in sizes:
            for aspect, size in table.items():
                wanted = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}[aspect]
                assert abs(_ratio(size) / wanted - 1) < 0.2, f"{model.name} {aspect} is {size}"


# ---------------------------------------------------------------------- the happy path


async def test_submit_status_download_gives_an_mp4_of_the_asked_length_and_shape(
    eng: Engine, tmp_path: Path
) -> None:
    remote_id = await eng.provider.submit(eng.spec)
    assert isinstance(remote_id, str) and remote_id
    seen = await poll_to_end(eng.provider, remote_id) if eng.name != "animatic" else []
    if eng.name == "animatic":  # a local render: wait for the encoder, not for polls
        while (status := await eng.provider.status(remote_id)).state != RemoteState.COMPLETED:
            assert status.state != RemoteState.FAILED, status.error
            await asyncio.sleep(0.05)
        seen = [status]
    assert seen[-1].state == RemoteState.COMPLETED and seen[-1].progress == 100
    dest = tmp_path / "out" / f"{eng.name}.mp4"
    await eng.provider.download(remote_id, dest)
    facts = decode_to_end(dest)
    assert facts.seconds == pytest.approx(eng.spec.seconds, abs=0.5)
    assert _ratio(f"{facts.width}x{facts.height}") == pytest.approx(_ratio(eng.spec.size), rel=0.2)
    assert eng.created() == 1


@pytest.mark.parametrize("change", ["seconds", "size", "model"])
async def test_options_the_model_cannot_make_are_refused_before_anything_is_spent(
    eng: Engine, change: str
) -> None:
    wrong = {"seconds": {"seconds": 1}, "size": {"size": "333x333"}, "model": {"model": "no-such-model"}}
    with pytest.raises((InvalidOptions, PermanentProviderError)):
        await eng.provider.submit(replace(eng.spec, **wrong[change]))  # type: ignore[arg-type]
    assert eng.created() == 0


# ---------------------------------------------------------------------- reconciling


async def test_find_after_a_submit_returns_the_same_job_or_says_it_cannot_tell(eng: Engine) -> None:
    remote_id = await eng.provider.submit(eng.spec)
    try:
        found = await eng.provider.find(eng.spec)
    except ReconcileUnsupported:
        caps = eng.provider.capabilities()
        assert caps.idempotent_submit or getattr(eng.provider, "reconciliation", "") == "uncertain"
        return
    assert found == remote_id


async def test_a_create_answered_504_after_the_job_was_made_is_uncertain_and_found_again(
    remote: Engine,
) -> None:
    assert remote.faults is not None
    remote.faults.fail_after_create(504)
    with pytest.raises(SubmissionUncertain) as caught:
        await remote.provider.submit(remote.spec)
    assert caught.value.provider == remote.name
    assert remote.created() == 1  # the job exists although the answer was an error
    try:
        found = await remote.provider.find(remote.spec)
    except ReconcileUnsupported:
        assert getattr(remote.provider, "reconciliation", "") == "uncertain"
        return
    assert found is not None
    assert (await poll_to_end(remote.provider, found))[-1].state == RemoteState.COMPLETED


async def test_find_before_any_submit_finds_nothing_where_the_provider_can_tell(remote: Engine) -> None:
    if getattr(remote.provider, "reconciliation", "") == "uncertain":
        with pytest.raises(ReconcileUnsupported):
            await remote.provider.find(remote.spec)
    else:
        assert await remote.provider.find(remote.spec) is None


async def test_cancel_reaches_the_api_where_it_has_one(remote: Engine) -> None:
    remote_id = await remote.provider.submit(remote.spec)
    await remote.provider.cancel(remote_id)
    if remote.cancelled is None:  # OpenAI's Videos API and Veo have no cancel: a logged no-op
        return
    assert remote_id.rpartition("|")[2] in remote.cancelled()


# ---------------------------------------------------------------------- failures


async def test_a_429_is_transient_with_the_retry_after_hint_and_makes_no_job(remote: Engine) -> None:
    if remote.rate_limit is None:
        pytest.skip(f"{remote.name} has no rate limit (a local server)")
    remote.rate_limit()
    with pytest.raises(TransientProviderError) as caught:
        await remote.provider.submit(remote.spec)
    assert not isinstance(caught.value, CapacityError | SubmissionUncertain)
    assert caught.value.retry_after == pytest.approx(remote.retry_after)
    assert remote.created() == 0


async def test_a_refusal_is_content_refused_and_makes_no_job(remote: Engine) -> None:
    if remote.refuse is None:
        pytest.skip(f"{remote.name} does not moderate prompts")
    remote.refuse()
    with pytest.raises(ContentRefused) as caught:
        await remote.provider.submit(remote.spec)
    assert caught.value.provider == remote.name and str(caught.value)
    assert remote.created() == 0


async def test_a_provider_out_of_capacity_is_a_capacity_error(remote: Engine) -> None:
    assert remote.go_down is not None
    remote.go_down()
    with pytest.raises(CapacityError):
        await remote.provider.submit(remote.spec)
    assert remote.created() == 0


async def test_an_unreachable_provider_is_a_capacity_error(remote: Engine) -> None:
    assert remote.unreachable is not None
    provider = remote.unreachable()
    try:
        with pytest.raises(CapacityError, match="unreachable"):
            await provider.submit(remote.spec)
    finally:
        close = getattr(provider, "aclose", None)
        if close is not None:
            await close()


@pytest.mark.parametrize("where", ["create", "status"])
async def test_a_200_html_page_is_a_clear_transient_error_naming_the_provider(
    remote: Engine, where: str
) -> None:
    assert remote.faults is not None
    if where == "create":
        remote.faults.html_next("create")
        with pytest.raises(SubmissionUncertain, match="unexpected response") as on_create:
            await remote.provider.submit(remote.spec)
        assert on_create.value.provider == remote.name
    else:
        remote_id = await remote.provider.submit(remote.spec)
        remote.faults.html_next(remote.status_route)
        with pytest.raises(TransientProviderError, match="unexpected response") as on_status:
            await remote.provider.status(remote_id)
        assert on_status.value.provider == remote.name


async def test_a_hung_status_call_raises_within_the_providers_timeout(remote: Engine) -> None:
    assert remote.faults is not None
    remote_id = await remote.provider.submit(remote.spec)
    remote.faults.hang_next(remote.status_route)
    # The fake never answers; only the adapter's per-call bound (1.5 s here) can end the call.
    with pytest.raises(TransientProviderError):
        await asyncio.wait_for(remote.provider.status(remote_id), timeout=30)
