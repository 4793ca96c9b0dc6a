"""The Veo adapter, driven through the real google-genai client against the local fake.

Only the client's base URL differs from production: the requests, the
operation polling and the error bodies are the SDK's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google import genai
from google.oauth2.credentials import Credentials

from adapters.providers.veo import VeoProvider, make_client
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
from tests.fakes.veo import RAI_REASON, FakeVeo
from tests.support.specs import bottle_spec
from tests.support.specs import poll_to_end as support_poll

MODEL = "veo-3.1-generate-001"

# google-genai's own aiohttp session subclass; nothing the adapter controls.
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")


def make_spec(
    *,
    seconds: int = 4,
    aspect: str = "16:9",
    size: str = "1280x720",
    model: str = MODEL,
    prompt: str = "A steel water bottle on a kitchen counter.",
    seed: int | None = None,
) -> RenderSpec:
    return bottle_spec(model=model, seconds=seconds, aspect=aspect, size=size, prompt=prompt, seed=seed)


async def poll_to_end(provider: VideoProvider, remote_id: str) -> list[RemoteStatus]:
    return await support_poll(provider, remote_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeVeo]:
    async with FakeVeo() as server:
        yield server


@pytest.fixture
async def client(fake: FakeVeo) -> AsyncIterator[genai.Client]:
    # The production factory: Agent Platform express mode, SDK retries off.
    client = make_client(api_key=fake.api_key, base_url=fake.base_url)
    yield client
    await client.aio.aclose()


@pytest.fixture
def provider(client: genai.Client) -> VeoProvider:
    return VeoProvider(client)


# ---------------------------------------------------------------------- capabilities


def test_veo_declares_veo_31_models_durations_sizes_audio_and_prices(provider: VeoProvider) -> None:
    assert isinstance(provider, VideoProvider)
    caps = provider.capabilities()
    assert caps.provider == "veo" and caps.default_model == MODEL
    assert caps.durations == (4, 6, 8)
    assert caps.aspects == ("16:9", "9:16")
    standard, fast = caps.model(MODEL), caps.model("veo-3.1-fast-generate-001")
    assert standard.audio and fast.audio
    assert (standard.price_per_second, fast.price_per_second) == (0.40, 0.15)
    assert standard.size_for("16:9") == "1280x720"
    assert standard.size_for("9:16", "high") == "1080x1920"


def test_veo_price_table_and_default_model_are_configuration(client: genai.Client) -> None:
    provider = VeoProvider(
        client, model="veo-3.1-fast-generate-preview", prices={"veo-3.1-fast-generate-preview": 0.1}
    )
    caps = provider.capabilities()
    assert caps.default_model == "veo-3.1-fast-generate-preview"
    assert caps.model().price_per_second == 0.1


def test_veo_refuses_a_gemini_developer_api_client_that_cannot_make_video() -> None:
    developer = genai.Client(vertexai=False, api_key="AIza-test")
    with pytest.raises(ValueError, match="Agent Platform"):
        VeoProvider(developer)


@pytest.mark.parametrize(
    ("seconds", "aspect", "size"),
    [(5, "16:9", "1280x720"), (4, "1:1", "720x720"), (4, "16:9", "3840x2160")],
)
async def test_veo_rejects_unsupported_options_before_spending(
    provider: VeoProvider, fake: FakeVeo, seconds: int, aspect: str, size: str
) -> None:
    with pytest.raises(InvalidOptions):
        await provider.submit(make_spec(seconds=seconds, aspect=aspect, size=size))
    assert fake.calls == []


async def test_veo_rejects_an_unknown_model_and_an_overlong_prompt_before_spending(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    with pytest.raises(InvalidOptions, match="no model"):
        await provider.submit(make_spec(model="veo-9"))
    with pytest.raises(PermanentProviderError, match="at most 3000"):
        await provider.submit(make_spec(prompt="word " * 1000))
    assert fake.calls == []


# ---------------------------------------------------------------------- the happy path


@pytest.mark.parametrize(
    ("aspect", "size", "resolution", "frame"),
    [("9:16", "720x1280", "720p", (108, 192)), ("16:9", "1920x1080", "1080p", (192, 108))],
)
async def test_veo_renders_a_playable_clip_of_the_asked_aspect_end_to_end(
    provider: VeoProvider,
    fake: FakeVeo,
    tmp_path: Path,
    aspect: str,
    size: str,
    resolution: str,
    frame: tuple[int, int],
) -> None:
    remote_id = await provider.submit(make_spec(seconds=6, aspect=aspect, size=size, seed=42))

    assert remote_id.startswith("projects/") and "/operations/" in remote_id
    (create,) = fake.calls_to(f"{MODEL}:predictLongRunning")
    assert create.path == f"/v1beta1/publishers/google/models/{MODEL}:predictLongRunning"
    assert create.headers["x-goog-api-key"] == fake.api_key
    assert create.body == {
        "instances": [{"prompt": "A steel water bottle on a kitchen counter."}],
        "parameters": {
            "sampleCount": 1,
            "durationSeconds": 6,
            "aspectRatio": aspect,
            "resolution": resolution,
            "negativePrompt": "watermarks, blur",
            "seed": 42,
            "personGeneration": "allow_adult",
            "generateAudio": True,
        },
    }

    seen = await poll_to_end(provider, remote_id)
    assert [s.state for s in seen] == [RemoteState.RUNNING] * 2 + [RemoteState.COMPLETED]
    assert seen[-1].progress == 100
    assert fake.calls_to(":fetchPredictOperation")[0].body == {"operationName": remote_id}

    dest = tmp_path / "clips" / "veo.mp4"
    await provider.download(remote_id, dest)
    facts = decode_to_end(dest)
    assert (facts.width, facts.height) == frame
    assert facts.frames == 12
    assert not dest.with_name("veo.mp4.part").exists()
    assert fake.submitted == 1


async def test_veo_on_a_project_sends_project_paths_with_oauth_credentials(
    fake: FakeVeo, tmp_path: Path
) -> None:
    token = Credentials(token=fake.oauth_token)  # type: ignore[no-untyped-call]
    client = make_client(project="acme", location="europe-west4", base_url=fake.base_url, credentials=token)
    provider = VeoProvider(client, person_generation=None)
    try:
        remote_id = await provider.submit(make_spec())
        await poll_to_end(provider, remote_id)
        await provider.download(remote_id, tmp_path / "clip.mp4")
    finally:
        await client.aio.aclose()
    prefix = f"/v1beta1/projects/acme/locations/europe-west4/publishers/google/models/{MODEL}"
    assert [c.path for c in fake.calls][:2] == [
        f"{prefix}:predictLongRunning",
        f"{prefix}:fetchPredictOperation",
    ]
    assert fake.calls[0].headers["Authorization"] == f"Bearer {fake.oauth_token}"
    assert "personGeneration" not in fake.calls[0].body["parameters"]  # type: ignore[index]
    assert decode_to_end(tmp_path / "clip.mp4").width == 192


async def test_veo_streams_the_clip_from_cloud_storage_when_a_bucket_is_configured(
    client: genai.Client, fake: FakeVeo, tmp_path: Path
) -> None:
    async def token() -> str:
        return fake.gcs_token

    provider = VeoProvider(
        client,
        output_gcs_uri="gs://clips/veo",
        gcs_token=token,
        storage_url=fake.storage_url,
        chunk_size=1024,
    )
    remote_id = await provider.submit(make_spec(aspect="9:16", size="720x1280"))
    await poll_to_end(provider, remote_id)
    await provider.download(remote_id, tmp_path / "clip.mp4")

    assert fake.calls[0].body["parameters"]["storageUri"] == "gs://clips/veo"  # type: ignore[index]
    (read,) = [c for c in fake.calls if c.path.startswith("/storage/v1/b/clips/o/")]
    assert read.headers["Authorization"] == f"Bearer {fake.gcs_token}"
    facts = decode_to_end(tmp_path / "clip.mp4")
    assert (facts.width, facts.height) == (108, 192)

    fake.objects.clear()  # the bucket's lifecycle rule deleted it
    with pytest.raises(PermanentProviderError, match="gone"):
        await provider.download(remote_id, tmp_path / "again.mp4")
    assert not (tmp_path / "again.mp4").exists()


async def test_veo_bucket_download_without_google_credentials_is_a_permanent_failure(
    client: genai.Client, fake: FakeVeo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default token source is Application Default Credentials; here there are none.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    provider = VeoProvider(client, output_gcs_uri="gs://clips/veo", storage_url=fake.storage_url)
    remote_id = await provider.submit(make_spec())
    await poll_to_end(provider, remote_id)
    with pytest.raises(PermanentProviderError, match="no credentials to read gs://clips/veo/"):
        await provider.download(remote_id, tmp_path / "clip.mp4")


# ---------------------------------------------------------------------- errors


async def test_veo_rate_limit_is_transient_with_googles_retry_hint_then_succeeds(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    fake.rate_limit = 1
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(make_spec())
    assert not isinstance(caught.value, CapacityError)
    assert caught.value.retry_after == fake.retry_after
    assert fake.submitted == 0

    remote_id = await provider.submit(make_spec())
    assert remote_id in fake.operations and fake.submitted == 1


async def test_veo_server_error_while_polling_is_transient_and_polling_resumes(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    remote_id = await provider.submit(make_spec())
    fake.server_errors = 1
    with pytest.raises(TransientProviderError) as caught:
        await provider.status(remote_id)
    assert not isinstance(caught.value, CapacityError)
    assert (await poll_to_end(provider, remote_id))[-1].state == RemoteState.COMPLETED


async def test_veo_down_is_a_capacity_error_so_the_worker_can_fail_over(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    fake.down = True
    with pytest.raises(CapacityError, match="503"):
        await provider.submit(make_spec())
    assert fake.submitted == 0


async def test_veo_unreachable_is_a_capacity_error() -> None:
    port = unused_port()
    client = make_client(api_key="k", base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(CapacityError, match="unreachable"):
            await VeoProvider(client).submit(make_spec())
    finally:
        await client.aio.aclose()


async def test_veo_prompt_refusal_carries_googles_reason_and_creates_no_job(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    fake.refuse_prompt = True
    with pytest.raises(ContentRefused, match="Responsible AI") as caught:
        await provider.submit(make_spec())
    assert caught.value.provider == "veo"
    assert fake.submitted == 0


async def test_veo_safety_filtered_video_is_a_refusal_that_costs_nothing(
    provider: VeoProvider, fake: FakeVeo
) -> None:
    fake.rai_filter = True
    remote_id = await provider.submit(make_spec())
    final = (await poll_to_end(provider, remote_id))[-1]
    assert final.state == RemoteState.FAILED
    assert final.refused and not final.charged
    assert final.error is not None and RAI_REASON in final.error


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        ({"code": 3, "message": RAI_REASON}, True),
        ({"code": 13, "message": "Internal error while generating the video."}, False),
    ],
)
async def test_veo_failed_operation_reports_googles_message(
    provider: VeoProvider, fake: FakeVeo, error: dict[str, object], refused: bool
) -> None:
    fake.operation_error = error
    remote_id = await provider.submit(make_spec())
    final = (await poll_to_end(provider, remote_id))[-1]
    assert (final.state, final.refused, final.charged) == (RemoteState.FAILED, refused, False)
    assert final.error is not None and str(error["message"]) in final.error


async def test_veo_expired_operation_is_a_permanent_failure(
    provider: VeoProvider, client: genai.Client, fake: FakeVeo, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec())
    await poll_to_end(provider, remote_id)
    fake.expired = True
    # A worker that restarts after the result expired has nothing cached to fall back on.
    restarted = VeoProvider(client)
    with pytest.raises(PermanentProviderError, match="no longer has this job"):
        await restarted.download(remote_id, tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists()


async def test_veo_downloads_an_inline_clip_from_the_finished_poll_without_fetching_it_again(
    provider: VeoProvider, fake: FakeVeo, tmp_path: Path
) -> None:
    remote_id = await provider.submit(make_spec())
    await poll_to_end(provider, remote_id)
    calls = len(fake.calls)
    await provider.download(remote_id, tmp_path / "clip.mp4")
    assert len(fake.calls) == calls and (tmp_path / "clip.mp4").stat().st_size > 0
