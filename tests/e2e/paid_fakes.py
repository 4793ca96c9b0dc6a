"""The three paid-provider fakes behind one interface, for tests that drive them through the worker.

Each :class:`PaidFake` wraps one running fake (OpenAI videos, Veo, Runway) and
knows the settings and environment variables that point clipdesk at it, so a
test builds its providers the way production does
(``adapters.providers.registry.paid_providers``) and only the base URLs and
keys differ. It also gives the fakes' switches one name each (rate limit,
refuse, go down, hold a job open), so a test can be written once and
parametrized across providers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.providers.registry import paid_providers
from adapters.runtime.settings import Settings
from bot.ports import VideoProvider
from tests.fakes.openai import BLOCKED_MESSAGE, FakeOpenAI
from tests.fakes.runway import SAFETY_FAILURE, FakeRunway
from tests.fakes.veo import RAI_REASON, FakeVeo
from tests.support.harness import test_settings

PROVIDERS = ("openai", "veo", "runway")
HOLD = 10**6  # polls before a held job finishes: never, within a test
# Runway holds a task back, runs it, finishes: three polls rather than the fake's default five.
SHORT_RUNWAY_SCRIPT = (("THROTTLED", 0.0), ("RUNNING", 0.5), ("SUCCEEDED", 1.0))

# Every credential a Settings may carry; unset ones are cleared so the environment cannot leak in.
_NO_CREDENTIALS: dict[str, object] = {
    "openai_api_key": None,
    "openai_base_url": None,
    "openai_webhook_secret": None,
    "gemini_api_key": None,
    "veo_vertex_project": None,
    "veo_base_url": None,
    "runwayml_api_secret": None,
    "runwayml_base_url": None,
}
CREDENTIAL_ENV = (
    "OPENAI_API_KEY",
    "CLIPDESK_OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CLIPDESK_OPENAI_BASE_URL",
    "OPENAI_WEBHOOK_SECRET",
    "CLIPDESK_OPENAI_WEBHOOK_SECRET",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "CLIPDESK_GEMINI_API_KEY",
    "CLIPDESK_VEO_VERTEX_PROJECT",
    "CLIPDESK_VEO_BASE_URL",
    "RUNWAYML_API_SECRET",
    "CLIPDESK_RUNWAYML_API_SECRET",
    "RUNWAYML_BASE_URL",
    "CLIPDESK_RUNWAYML_BASE_URL",
)


class PaidFake:
    """One fake provider server and what a test needs to know about it."""

    name: str
    hint: float | None  # the polling hint (seconds) the adapter passes on, None if it gives none
    refusal: str  # the provider's words when it refuses the prompt at submit
    render_refusal: str  # … and when it refuses while rendering

    def settings(self) -> dict[str, object]:
        """Settings overrides that point clipdesk at this fake."""
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """The same, as the environment variables an operator would set."""
        raise NotImplementedError

    def jobs(self) -> list[str]:
        """The remote ids of the jobs created (each one billed)."""
        raise NotImplementedError

    def polls(self, job: str) -> int:
        raise NotImplementedError

    def submit_calls(self) -> int:
        """How many create requests reached the fake, answered or not."""
        raise NotImplementedError

    def api_calls(self) -> int:
        """Every video-API request the fake recorded (create, status, download)."""
        raise NotImplementedError

    def expected_cost(self, seconds: int) -> float:
        """What a finished clip of ``seconds`` costs on the default model."""
        raise NotImplementedError

    def rate_limit_next(self, retry_after: float) -> None:
        raise NotImplementedError

    def refuse_at_submit(self) -> None:
        raise NotImplementedError

    def refuse_while_rendering(self) -> None:
        raise NotImplementedError

    def go_down(self) -> None:
        """Answer 503 to everything, as a provider shedding load does."""
        raise NotImplementedError

    def hold(self) -> None:
        """Jobs stay running until :meth:`release`."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Stop listening: the provider's port refuses connections."""
        raise NotImplementedError

    def full_length_clips(self) -> None:
        """Serve clips as long as asked (demos) instead of the 1 s stand-ins some fakes use."""


@dataclass
class OpenAIFake(PaidFake):
    server: FakeOpenAI
    name = "openai"
    hint = 0.12
    refusal = BLOCKED_MESSAGE
    render_refusal = BLOCKED_MESSAGE
    key = "sk-test"

    def settings(self) -> dict[str, object]:
        return {"openai_api_key": self.key, "openai_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"OPENAI_API_KEY": self.key, "OPENAI_BASE_URL": self.server.base_url}

    def jobs(self) -> list[str]:
        return list(self.server.videos)

    def polls(self, job: str) -> int:
        return self.server.videos[job].polls

    def submit_calls(self) -> int:
        return len(self.server.calls_to("POST", "/v1/videos"))

    def api_calls(self) -> int:
        return len([c for c in self.server.calls if c.path.startswith("/v1/videos")])

    def expected_cost(self, seconds: int) -> float:
        return round(0.10 * seconds, 4)

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.rate_limit(1, retry_after=retry_after, route="videos.create")

    def refuse_at_submit(self) -> None:
        self.server.refuse_create()

    def refuse_while_rendering(self) -> None:
        self.server.block_next_video()

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.steps = HOLD

    def release(self) -> None:
        self.server.steps = 1

    async def close(self) -> None:
        await self.server.close()


@dataclass
class VeoFake(PaidFake):
    server: FakeVeo
    name = "veo"
    hint = None  # Veo's operations carry no polling hint: the worker's own back-off applies
    refusal = RAI_REASON
    render_refusal = RAI_REASON

    def settings(self) -> dict[str, object]:
        return {"gemini_api_key": self.server.api_key, "veo_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"GEMINI_API_KEY": self.server.api_key, "CLIPDESK_VEO_BASE_URL": self.server.base_url}

    def jobs(self) -> list[str]:
        return list(self.server.operations)

    def polls(self, job: str) -> int:
        return self.server.operations[job].polls

    def submit_calls(self) -> int:
        return len(self.server.calls_to(":predictLongRunning"))

    def api_calls(self) -> int:
        return len(self.server.calls)

    def expected_cost(self, seconds: int) -> float:
        return round(0.40 * seconds, 4)  # Veo reports no cost: the estimate is what is recorded

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.retry_after = retry_after
        self.server.rate_limit = 1

    def refuse_at_submit(self) -> None:
        self.server.refuse_prompt = True

    def refuse_while_rendering(self) -> None:
        self.server.rai_filter = True

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.polls_until_done = HOLD

    def release(self) -> None:
        self.server.polls_until_done = 0

    async def close(self) -> None:
        await self.server.stop()

    def full_length_clips(self) -> None:
        self.server.clip_seconds = None


@dataclass
class RunwayFake(PaidFake):
    server: FakeRunway
    name = "runway"
    hint = 5.0  # RunwayProvider's poll_seconds (Runway asks for at most one poll per 5 s)
    refusal = "did not pass our content moderation"
    render_refusal = SAFETY_FAILURE[1]

    def settings(self) -> dict[str, object]:
        return {"runwayml_api_secret": self.server.api_key, "runwayml_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"RUNWAYML_API_SECRET": self.server.api_key, "RUNWAYML_BASE_URL": self.server.base_url}

    def jobs(self) -> list[str]:
        return list(self.server.tasks)

    def polls(self, job: str) -> int:
        return self.server.tasks[job].polls

    def submit_calls(self) -> int:
        creates = ("/v1/text_to_video", "/v1/image_to_video")  # a cut's continuous shot: image_to_video
        return sum(len(self.server.calls_to(path)) for path in creates)

    def api_calls(self) -> int:
        return len(self.server.calls)

    def expected_cost(self, seconds: int) -> float:
        return round(12 * seconds * 0.01, 4)  # gen4.5: 12 credits a second at $0.01 a credit

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.retry_after = retry_after  # type: ignore[assignment]  # sent as Retry-After: 0.25
        self.server.rate_limit = 1

    def refuse_at_submit(self) -> None:
        self.server.refuse_prompt = True

    def refuse_while_rendering(self) -> None:
        self.server.fail_code = SAFETY_FAILURE[0]

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.script = (("RUNNING", 0.5),)

    def release(self) -> None:
        self.server.script = (("SUCCEEDED", 1.0),)

    async def close(self) -> None:
        await self.server.stop()

    def full_length_clips(self) -> None:
        self.server.clip_seconds = None


@asynccontextmanager
async def running(name: str, workdir: Path) -> AsyncIterator[PaidFake]:
    """Start the fake for ``name`` on 127.0.0.1 in this event loop."""
    if name == "openai":
        # A small hint, above the harness's poll cap, so a test sees the worker follow it.
        async with FakeOpenAI(workdir / "fake_openai", steps=2, poll_after_ms=120) as openai_server:
            yield OpenAIFake(openai_server)
    elif name == "veo":
        async with FakeVeo() as veo_server:
            yield VeoFake(veo_server)
    elif name == "runway":
        async with FakeRunway(script=SHORT_RUNWAY_SCRIPT) as runway_server:
            yield RunwayFake(runway_server)
    else:
        raise ValueError(f"no fake for {name!r}")


@asynccontextmanager
async def running_all(names: Iterable[str], workdir: Path) -> AsyncIterator[dict[str, PaidFake]]:
    async with AsyncExitStack() as stack:
        yield {name: await stack.enter_async_context(running(name, workdir)) for name in names}


def settings_for(*fakes: PaidFake) -> dict[str, object]:
    """Overrides for ``test_settings``: these fakes' credentials and base URLs, and no others.

    Renders start without a click (the auto-render limit is high), and the prompt
    is written and checked offline so that only the video APIs are under test.
    """
    overrides: dict[str, object] = dict(_NO_CREDENTIALS)
    for fake in fakes:
        overrides.update(fake.settings())
    overrides.update(auto_render_max_cost=1000.0, refiner="offline", moderation="local")
    if fakes:
        overrides["provider"] = fakes[0].name
    return overrides


def providers_for(tmp_path: Path, db_url: str, overrides: dict[str, object]) -> dict[str, VideoProvider]:
    """The providers production would build from these settings (real SDK clients)."""
    settings: Settings = test_settings(tmp_path, db_url, **overrides)
    return paid_providers(settings)
