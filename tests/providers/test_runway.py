"""The Runway adapter, driven through the real ``AsyncRunwayML`` client against the local fake.

Only the client's base URL differs from production: the requests, the task
polling and the error bodies are the SDK's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from runwayml import AsyncRunwayML

from adapters.providers.runway import RunwayProvider, make_client
from bot.errors import (
    CapacityError,
    ContentRefused,
    InvalidOptions,
    PermanentProviderError,
    TransientProviderError,
)
from bot.ports import RemoteState, RemoteStatus, RenderSpec, VideoProvider
from tests.fakes.loopback import unused_port
from tests.fakes.media import decode_to_end
from tests.fakes.runway import RUNWAY_VERSION, SAFETY_FAILURE, FakeRunway
from tests.support.specs import bottle_spec
from tests.support.specs import poll_to_end as support_poll


def make_spec(
    *,
    seconds: int = 5,
    aspect: str = "16:9",
    size: str = "1280x720",
    model: str = "gen4.5",
    prompt: str = "A steel water bottle on a kitchen counter.",
    seed: int | None = None,
) -> RenderSpec:
    return bottle_spec(model=model, seconds=seconds, aspect=aspect, size=size, prompt=prompt, seed=seed)


async def poll_to_end(provider: VideoProvider, remote_id: str) -> list[RemoteStatus]:
    return await support_poll(provider, remote_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeRunway]:
    async with FakeRunway() as server:
        yield server


@pytest.fixture
async def client(fake: FakeRunway) -> AsyncIterator[AsyncRunwayML]:
    # The production factory: SDK retries off, only the base URL points elsewhere.
    client = make_client(api_key=fake.api_key, base_url=fake.base_url)
    yield client
    await client.close()


@pytest.fixture
def provider(client: AsyncRunwayML) -> RunwayProvider:
    return RunwayProvider(client)


# ---------------------------------------------------------------------- capabilities


def test_runway_offers_its_models_with_their_durations_ratios_and_prices(
    provider: RunwayProvider,
) -> None:
    assert isinstance(provider, VideoProvider)
    caps = provider.capabilities()
    assert caps.provider == "runway" and caps.default_model == "gen4.5"
    assert [m.name for m in caps.models] == ["gen4.5", "veo3.1", "veo3.1_fast", "kling2.5_turbo_pro"]
    gen, veo, fast, kling = caps.models
    assert gen.durations == tuple(range(2, 11)) and veo.durations == (4, 6, 8)
    assert kling.durations == (5, 10) and kling.size_for("1:1") == "720x720"
    assert gen.size_for("16:9", "high") == "1280x720"  # gen4.5 has no 1080p
    assert veo.size_for("9:16", "high") == "1080x1920"
    assert (gen.price_per_second, veo.price_per_second, fast.price_per_second) == (0.12, 0.40, 0.15)
    assert veo.audio and not gen.audio
    assert gen.max_prompt_chars == 1000


def test_runway_price_table_and_default_model_are_configuration(client: AsyncRunwayML) -> None:
    provider = RunwayProvider(client, model="veo3.1_fast", prices={"veo3.1_fast": 0.1})
    assert provider.capabilities().model().price_per_second == 0.1
    with pytest.raises(ValueError, match="unknown Runway model"):
        RunwayProvider(client, model="gen9")


@pytest.mark.parametrize(
    ("model", "seconds", "aspect", "size"),
    [
        ("gen4.5", 12, "16:9", "1280x720"),
        ("gen4.5", 5, "1:1", "720x720"),
        ("veo3.1", 5, "16:9", "1280x720"),
        ("kling2.5_turbo_pro", 6, "16:9", "1280x720"),
        ("gen4.5", 5, "16:9", "1920x1080"),
    ],
)
async def test_runway_rejects_options_the_model_cannot_make_before_spending(
    provider: RunwayProvider, fake: FakeRunway, model: str, seconds: int, aspect: str, size: str
) -> None:
    with pytest.raises(InvalidOptions):
        await provider.submit(make_spec(model=model, seconds=seconds, aspect=aspect, size=size))
    assert fake.calls == []


async def test_runway_counts_the_prompt_limit_in_utf16_units_before_spending(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    with pytest.raises(PermanentProviderError, match="at most 1000"):
        await provider.submit(make_spec(prompt="🎬" * 501))  # 1,002 UTF-16 units, 501 characters
    assert fake.calls == []


# ---------------------------------------------------------------------- the happy path


async def test_runway_renders_a_playable_clip_through_pending_throttled_and_running(
    provider: RunwayProvider, fake: FakeRunway, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec(seconds=5, aspect="9:16", size="720x1280", seed=7))

    (create,) = fake.calls_to("/v1/text_to_video")
    assert create.headers["X-Runway-Version"] == RUNWAY_VERSION
    assert create.headers["Authorization"] == f"Bearer {fake.api_key}"
    assert create.body == {
        "model": "gen4.5",
        "promptText": "A steel water bottle on a kitchen counter.",
        "ratio": "720:1280",
        "duration": 5,
        "seed": 7,
    }

    seen = await poll_to_end(provider, remote_id)
    assert [(s.state, s.progress) for s in seen] == [
        (RemoteState.QUEUED, 0),
        (RemoteState.QUEUED, 0),
        (RemoteState.RUNNING, 40),
        (RemoteState.RUNNING, 80),
        (RemoteState.COMPLETED, 100),
    ]
    assert seen[0].poll_after is not None and seen[1].poll_after is not None
    assert seen[1].poll_after > seen[0].poll_after  # THROTTLED: Runway holds it; poll gently
    assert seen[-1].cost == pytest.approx(12 * 5 * 0.01)  # the task's final credits, in USD

    dest = tmp_path / "clips" / "runway.mp4"
    await provider.download(remote_id, dest)
    facts = decode_to_end(dest)
    assert (facts.width, facts.height) == (108, 192)
    (fetch,) = fake.calls_to("/outputs/")
    assert "Authorization" not in fetch.headers  # the API key never goes to the CDN
    assert not dest.with_name("runway.mp4.part").exists()
    assert fake.created == 1


async def test_runway_hosted_veo_gets_1080p_audio_and_the_negative_prompt(
    provider: RunwayProvider, fake: FakeRunway, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec(model="veo3.1", seconds=8, size="1920x1080"))
    assert fake.calls[0].body == {
        "model": "veo3.1",
        "promptText": "A steel water bottle on a kitchen counter.",
        "ratio": "1920:1080",
        "duration": 8,
        "audio": True,
        "negativePrompt": "watermarks, blur",
    }
    assert (await poll_to_end(provider, remote_id))[-1].cost == pytest.approx(40 * 8 * 0.01)
    await provider.download(remote_id, tmp_path / "veo.mp4")
    assert decode_to_end(tmp_path / "veo.mp4").width == 192


# ---------------------------------------------------------------------- errors


async def test_runway_rate_limit_is_transient_with_retry_after_then_succeeds(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    fake.rate_limit = 1
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(make_spec())
    assert not isinstance(caught.value, CapacityError)
    assert caught.value.retry_after == fake.retry_after
    assert fake.created == 0

    assert await provider.submit(make_spec()) in fake.tasks
    assert fake.created == 1


async def test_runway_server_error_while_polling_is_transient_and_polling_resumes(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    remote_id = await provider.submit(make_spec())
    fake.server_errors = 1
    with pytest.raises(TransientProviderError) as caught:
        await provider.status(remote_id)
    assert not isinstance(caught.value, CapacityError)
    assert (await poll_to_end(provider, remote_id))[-1].state == RemoteState.COMPLETED


async def test_runway_shedding_load_is_a_capacity_error_so_the_worker_can_fail_over(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    fake.down = True
    with pytest.raises(CapacityError, match="503"):
        await provider.submit(make_spec())
    assert fake.created == 0


async def test_runway_unreachable_is_a_capacity_error() -> None:
    port = unused_port()
    client = make_client(api_key="key_test", base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(CapacityError, match="unreachable"):
            await RunwayProvider(client).submit(make_spec())
    finally:
        await client.close()


async def test_runway_moderation_refusal_at_create_carries_runways_reason(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    fake.refuse_prompt = True
    with pytest.raises(ContentRefused, match="content moderation") as caught:
        await provider.submit(make_spec())
    assert caught.value.provider == "runway"
    assert fake.created == 0


async def test_runway_safety_failure_is_a_refusal_with_context_and_no_charge(
    provider: RunwayProvider, fake: FakeRunway
) -> None:
    fake.fail_code = SAFETY_FAILURE[0]
    remote_id = await provider.submit(make_spec())
    final = (await poll_to_end(provider, remote_id))[-1]
    assert final.state == RemoteState.FAILED
    assert final.refused and not final.charged and final.cost == 0
    assert final.error is not None
    assert "flagged the prompt text (SAFETY.INPUT.TEXT)" in final.error
    assert SAFETY_FAILURE[1] in final.error


async def test_runway_quality_failure_is_not_a_refusal(provider: RunwayProvider, fake: FakeRunway) -> None:
    fake.fail_code, fake.fail_message = "INTERNAL.BAD_OUTPUT.CODE01", "The output was unusable."
    final = (await poll_to_end(provider, await provider.submit(make_spec())))[-1]
    assert (final.state, final.refused, final.charged) == (RemoteState.FAILED, False, False)
    assert final.error is not None and "INTERNAL.BAD_OUTPUT.CODE01" in final.error


async def test_runway_cancelled_task_is_failed(provider: RunwayProvider, fake: FakeRunway) -> None:
    fake.cancel = True
    final = (await poll_to_end(provider, await provider.submit(make_spec())))[-1]
    assert (final.state, final.charged) == (RemoteState.FAILED, False)
    assert final.error is not None and "cancelled" in final.error


async def test_runway_expired_output_link_is_a_permanent_failure(
    provider: RunwayProvider, fake: FakeRunway, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec())
    await poll_to_end(provider, remote_id)
    fake.expired = True
    with pytest.raises(PermanentProviderError, match="404"):
        await provider.download(remote_id, tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists()
    assert not (tmp_path / "clip.mp4.part").exists()


async def test_runway_unknown_task_is_a_permanent_failure(provider: RunwayProvider) -> None:
    with pytest.raises(PermanentProviderError, match="no longer has this"):
        await provider.status("7b1f1c9e-0000-4000-8000-000000000000")
