"""A gateway that serves only /v1/videos works on its own; its 404 elsewhere is a setting, not an outage."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.llm.openai_moderation import OpenAIModerator
from adapters.runtime.settings import Settings
from bot.errors import ModerationMisconfigured, ModerationUnavailable
from tests.fakes.media import decode_to_end
from tests.fakes.openai import FakeOpenAI
from tests.support.cli_run import clipdesk


@pytest.mark.slow
async def test_a_videos_only_gateway_renders_a_clip_with_the_video_settings_alone(tmp_path: Path) -> None:
    async with FakeOpenAI(tmp_path / "fake", steps=2, poll_after_ms=100) as gateway:
        gateway.videos_only = True
        env = {
            "CLIPDESK_OPENAI_VIDEO_BASE_URL": gateway.base_url,
            "CLIPDESK_OPENAI_VIDEO_API_KEY": "gateway-key",
            "CLIPDESK_AUTO_RENDER_MAX_COST": "100",
            "CLIPDESK_POLL_START_SECONDS": "0.05",
            "CLIPDESK_POLL_CAP_SECONDS": "0.1",
        }
        ask = "a product demo of our steel water bottle on a kitchen counter"
        run = await clipdesk(tmp_path, "demo", "--provider", "openai", "--seconds", "4", ask, env=env)
        assert run.code == 0, f"{run.out}\n{run.err}"
        clip = Path(run.out.strip().splitlines()[-1])
        facts = await asyncio.to_thread(decode_to_end, clip)
        assert facts.frames > 0 and facts.seconds == pytest.approx(4, abs=0.5)
        assert gateway.created_videos == 1
        # The prompt was written offline and checked by the local rules: nothing but /v1/videos was asked.
        assert {call.path.split("/")[2] for call in gateway.calls} == {"videos"}
        assert all(call.headers["authorization"] == "Bearer gateway-key" for call in gateway.calls)
        # … and the thread said so, once.
        assert run.out.count("Only a video endpoint is configured here") == 1


def test_video_settings_fall_back_to_the_openai_ones() -> None:
    both = Settings(_env_file=None, OPENAI_API_KEY="sk-llm", OPENAI_BASE_URL="http://llm/v1")
    assert (both.video_base_url, both.video_api_key) == ("http://llm/v1", "sk-llm")
    both.openai_video_base_url, both.openai_video_api_key = "http://videos/v1", "vk"
    assert (both.video_base_url, both.video_api_key) == ("http://videos/v1", "vk")


@pytest.mark.parametrize(("status", "variable"), [(404, "OPENAI_BASE_URL"), (401, "OPENAI_API_KEY")])
async def test_moderation_refused_by_the_endpoint_is_misconfigured_not_unavailable(
    tmp_path: Path, status: int, variable: str
) -> None:
    async with FakeOpenAI(tmp_path) as fake:
        if status == 404:
            fake.videos_only = True
        else:
            fake.fail("moderations", 401, code="invalid_api_key", message="Incorrect API key provided.")
        with pytest.raises(ModerationMisconfigured) as raised:
            await OpenAIModerator(fake.client()).check("a bottle on a counter")
    assert raised.value.variable == variable and variable in str(raised.value)
    assert isinstance(raised.value, ModerationUnavailable)  # still fails closed where it is caught today


async def test_a_moderation_outage_is_still_unavailable_not_misconfigured(tmp_path: Path) -> None:
    async with FakeOpenAI(tmp_path) as fake:
        fake.server_error(route="moderations", status=503)
        with pytest.raises(Exception) as raised:
            await OpenAIModerator(fake.client()).check("a bottle on a counter")
    assert not isinstance(raised.value, ModerationMisconfigured)
