"""The OpenAI Videos adapter, driven through the real ``AsyncOpenAI`` against the local fake."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from adapters.providers.openai_videos import OpenAIVideosProvider, compose_prompt
from bot.backoff import poll_interval
from bot.errors import (
    CapacityError,
    ContentRefused,
    InvalidOptions,
    PermanentProviderError,
    TransientProviderError,
)
from bot.ports import RemoteState, RemoteStatus, RenderSpec, VideoProvider
from tests.fakes.media import decode_to_end
from tests.fakes.openai import FakeOpenAI
from tests.support.specs import bottle_spec
from tests.support.specs import poll_to_end as support_poll

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning")


@pytest.fixture
async def fake_openai(tmp_path: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmp_path / "fake_openai") as fake:
        yield fake


@pytest.fixture
async def openai_client(fake_openai: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with fake_openai.client() as client:
        yield client


def make_spec(
    seconds: int = 4, size: str = "1280x720", aspect: str = "16:9", model: str = "sora-2"
) -> RenderSpec:
    return bottle_spec(model=model, seconds=seconds, aspect=aspect, size=size)


async def poll_to_end(provider: VideoProvider, remote_id: str) -> list[RemoteStatus]:
    return await support_poll(provider, remote_id)


@pytest.fixture
def provider(openai_client: AsyncOpenAI) -> OpenAIVideosProvider:
    return OpenAIVideosProvider(openai_client)


def test_provider_implements_the_port_and_declares_sora_models(provider: OpenAIVideosProvider) -> None:
    assert isinstance(provider, VideoProvider)
    caps = provider.capabilities()
    assert caps.provider == "openai" and caps.default_model == "sora-2"
    assert caps.label == "Azure/gateway"
    sora, pro = caps.model("sora-2"), caps.model("sora-2-pro")
    assert sora.durations == pro.durations == (4, 8, 12)
    assert sora.sizes == {"16:9": "1280x720", "9:16": "720x1280"}
    assert (sora.price_per_second, pro.price_per_second) == (0.10, 0.30)
    assert pro.size_for("16:9", "high") == "1792x1024"
    assert pro.size_for("9:16", "high") == "1024x1792"
    assert sora.size_for("16:9", "high") == "1280x720"  # sora-2 has no larger size
    assert provider.price_for("sora-2-pro", "1792x1024") == 0.50
    assert provider.price_for("sora-2-pro", "1280x720") == 0.30


def test_configured_prices_override_the_defaults(openai_client: AsyncOpenAI) -> None:
    provider = OpenAIVideosProvider(
        openai_client, default_model="sora-2-pro", prices={"sora-2-pro": 0.25, "sora-2-pro@high": 0.4}
    )
    assert provider.capabilities().model().price_per_second == 0.25
    assert provider.price_for("sora-2-pro", "1024x1792") == 0.4


async def test_submit_poll_download_produces_a_decodable_mp4(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec(seconds=4))

    [create] = fake_openai.calls_to("POST", "/v1/videos")
    assert create.content_type == "multipart/form-data"
    assert create.body["model"] == "sora-2"
    assert create.body["seconds"] == "4"
    assert create.body["size"] == "1280x720"
    assert create.body["prompt"].startswith("A steel water bottle on a kitchen counter")
    assert create.body["prompt"].endswith("Avoid: watermarks, blur.")

    statuses = await poll_to_end(provider, remote_id)
    assert [s.state for s in statuses] == [
        RemoteState.QUEUED,
        RemoteState.RUNNING,
        RemoteState.RUNNING,
        RemoteState.COMPLETED,
    ]
    assert [s.progress for s in statuses] == [0, 33, 67, 100]
    assert statuses[-1].cost == pytest.approx(0.40)

    dest = tmp_path / "media" / "clip.mp4"
    await provider.download(remote_id, dest)
    [content] = fake_openai.calls_to("GET", rf"/v1/videos/{remote_id}/content")
    assert content.query == {"variant": "video"}
    facts = decode_to_end(dest)
    assert facts.codec == "h264"
    assert facts.width * 9 == facts.height * 16
    assert facts.seconds == pytest.approx(4.0, abs=0.2)
    assert not dest.with_name("clip.mp4.part").exists()
    assert fake_openai.created_videos == 1


async def test_high_quality_pro_render_uses_the_large_size_and_its_price(
    openai_client: AsyncOpenAI, fake_openai: FakeOpenAI
) -> None:
    provider = OpenAIVideosProvider(openai_client)
    pro = provider.capabilities().model("sora-2-pro")
    spec = make_spec(seconds=8, size=pro.size_for("9:16", "high"), aspect="9:16", model="sora-2-pro")
    remote_id = await provider.submit(spec)
    assert fake_openai.videos[remote_id].size == "1024x1792"
    fake_openai.finish(remote_id)
    assert (await provider.status(remote_id)).cost == pytest.approx(0.50 * 8)


async def test_azure_deployment_names_are_sent_as_the_model(
    openai_client: AsyncOpenAI, fake_openai: FakeOpenAI
) -> None:
    provider = OpenAIVideosProvider(openai_client, deployments={"sora-2": "team-sora"})
    remote_id = await provider.submit(make_spec())
    assert fake_openai.videos[remote_id].model == "team-sora"
    fake_openai.finish(remote_id)
    assert (await provider.status(remote_id)).cost == pytest.approx(0.40)


@pytest.mark.parametrize(
    ("seconds", "size", "model"),
    [
        (5, "1280x720", "sora-2"),
        (4, "1792x1024", "sora-2"),
        (4, "640x480", "sora-2-pro"),
    ],
)
async def test_unsupported_options_are_refused_before_anything_is_spent(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI, seconds: int, size: str, model: str
) -> None:
    with pytest.raises(InvalidOptions):
        await provider.submit(make_spec(seconds=seconds, size=size, model=model))
    assert fake_openai.calls == []


async def test_rate_limit_is_transient_with_the_retry_after_hint_then_succeeds(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.rate_limit(times=1, retry_after=7, route="videos.create")

    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(make_spec())
    assert not isinstance(caught.value, CapacityError)
    assert caught.value.retry_after == 7
    assert fake_openai.created_videos == 0

    remote_id = await provider.submit(make_spec())
    assert remote_id in fake_openai.videos
    assert fake_openai.created_videos == 1


async def test_server_error_while_polling_is_transient(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    remote_id = await provider.submit(make_spec())
    fake_openai.server_error(status=500, route="videos.retrieve")
    with pytest.raises(TransientProviderError) as caught:
        await provider.status(remote_id)
    assert not isinstance(caught.value, CapacityError)
    assert (await provider.status(remote_id)).state == RemoteState.QUEUED


async def test_timeout_is_transient_not_a_reason_to_fail_over(fake_openai: FakeOpenAI) -> None:
    fake_openai.stall("videos.retrieve")
    async with fake_openai.client(timeout=0.2) as client:
        provider = OpenAIVideosProvider(client)
        with pytest.raises(TransientProviderError) as caught:
            await provider.status("video_anything")
    assert not isinstance(caught.value, CapacityError)
    assert "timed out" in str(caught.value)


async def test_prompt_refused_at_create_is_content_refused_with_the_providers_reason(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.refuse_create("This prompt may violate our guardrails on depicting real people.")
    with pytest.raises(ContentRefused) as caught:
        await provider.submit(make_spec())
    assert str(caught.value) == "This prompt may violate our guardrails on depicting real people."
    assert fake_openai.created_videos == 0


async def test_other_client_errors_are_permanent_not_refusals(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fail("videos.create", 400, code="invalid_value", message="Invalid size.")
    with pytest.raises(PermanentProviderError) as caught:
        await provider.submit(make_spec())
    assert not isinstance(caught.value, ContentRefused)
    assert "Invalid size." in str(caught.value)


async def test_video_blocked_by_moderation_reports_a_refusal_that_is_not_charged(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.block_next_video("The generated video was blocked by our moderation system.")
    remote_id = await provider.submit(make_spec())
    last = (await poll_to_end(provider, remote_id))[-1]
    assert last.state == RemoteState.FAILED
    assert last.refused is True
    assert last.charged is False
    assert last.error == "The generated video was blocked by our moderation system."


async def test_ordinary_generation_failure_is_not_a_refusal(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    remote_id = await provider.submit(make_spec())
    fake_openai.finish(remote_id, failed=True, code="internal_error", message="Generation failed.")
    status = await provider.status(remote_id)
    assert (status.state, status.refused, status.error) == (RemoteState.FAILED, False, "Generation failed.")


async def test_provider_down_is_a_capacity_error_so_the_worker_fails_over(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.down = True
    with pytest.raises(CapacityError):
        await provider.submit(make_spec())
    assert fake_openai.created_videos == 0


async def test_refused_connection_is_a_capacity_error(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    await fake_openai.close()
    with pytest.raises(CapacityError) as caught:
        await provider.submit(make_spec())
    assert "unreachable" in str(caught.value)


async def test_expired_content_is_a_permanent_result_expired(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec())
    fake_openai.finish(remote_id)
    fake_openai.expire(remote_id)
    dest = tmp_path / "clip.mp4"
    with pytest.raises(PermanentProviderError) as caught:
        await provider.download(remote_id, dest)
    assert str(caught.value) == "result expired"
    assert not dest.exists() and not dest.with_name("clip.mp4.part").exists()


async def test_poll_after_header_becomes_the_poll_hint(tmp_path: Path) -> None:
    async with FakeOpenAI(tmp_path, poll_after_ms=4321) as fake, fake.client() as client:
        provider = OpenAIVideosProvider(client)
        remote_id = await provider.submit(make_spec())
        running = await provider.status(remote_id)
        assert running.poll_after == pytest.approx(4.321)
        assert poll_interval(1, start=2.0, cap=20.0, hint=running.poll_after) == pytest.approx(4.321)
        fake.finish(remote_id)
        assert (await provider.status(remote_id)).poll_after is None


async def test_remix_starts_a_new_job_from_a_completed_video(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI
) -> None:
    source = await provider.submit(make_spec())
    fake_openai.finish(source)
    remixed = await provider.remix(source, "Same shot, but at dusk.")
    assert remixed != source
    assert fake_openai.videos[remixed].remixed_from == source
    [call] = fake_openai.calls_to("POST", rf"/v1/videos/{source}/remix")
    assert call.body == {"prompt": "Same shot, but at dusk."}
    assert fake_openai.created_videos == 2


async def test_download_streams_to_disk_without_holding_the_clip_in_memory(
    provider: OpenAIVideosProvider, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(24 << 20))
    fake_openai.content_file = big
    remote_id = await provider.submit(make_spec())
    fake_openai.finish(remote_id)
    dest = tmp_path / "out.mp4"
    tracemalloc.start()
    try:
        await provider.download(remote_id, dest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB for a 24 MiB clip"


def test_negative_prompt_is_folded_in_and_the_positive_prompt_keeps_the_space() -> None:
    assert compose_prompt("A cat.", "blur, text", 100) == "A cat.\n\nAvoid: blur, text."
    assert compose_prompt("A cat.", "", 100) == "A cat."
    long_negative = ", ".join(["flicker"] * 40)
    folded = compose_prompt("A cat on a sofa.", long_negative, 80)
    assert len(folded) <= 80 and folded.startswith("A cat on a sofa.\n\nAvoid: flicker")
    assert compose_prompt("x" * 120, "blur", 100) == "x" * 99 + "…"
