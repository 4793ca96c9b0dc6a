"""fal, Replicate, Luma and ComfyUI behind :class:`tests.e2e.paid_fakes.PaidFake`, for worker tests.

As in ``paid_fakes``: each wraps one running fake, knows the settings and the
environment variables that point clipdesk at it (only keys and base URLs), and
gives its switches the shared names. Each engine also says which clip length it
makes (``seconds``), since not all of them make 4 s clips, and how a completion is
pushed (:meth:`EngineFake.push`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.paid_fakes import HOLD, PaidFake
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.fal import POLICY_MESSAGE, FakeFal
from tests.fakes.luma import REFUSAL as LUMA_REFUSAL
from tests.fakes.luma import FakeLuma
from tests.fakes.replicate import REFUSAL as REPLICATE_REFUSAL
from tests.fakes.replicate import FakeReplicate

ENGINES = ("fal", "replicate", "luma", "comfyui")
ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "deploy" / "comfyui" / "wan22-ti2v-5b.json"
ENGINE_CREDENTIALS: dict[str, object] = {
    "fal_key": None,
    "fal_base_url": None,
    "replicate_api_token": None,
    "replicate_base_url": None,
    "replicate_webhook_secret": None,
    "lumaai_api_key": None,
    "luma_base_url": None,
    "luma_webhook_secret": None,
    "comfyui_url": None,
    "comfyui_workflow": None,
    "webhook_base_url": "",
}
ENGINE_ENV = ("FAL_KEY", "REPLICATE_API_TOKEN", "LUMAAI_API_KEY", "LUMAAI_BASE_URL")


class EngineFake(PaidFake):
    seconds: int  # a clip length the default model makes

    def ask(self) -> str:
        return f"a {self.seconds}s product demo of a steel water bottle on a kitchen counter"

    def webhook_settings(self, base_url: str) -> dict[str, object]:
        """Settings that make the provider push completion to clipdesk at ``base_url``."""
        return {"webhook_base_url": base_url}

    async def push(self, job: str) -> int:
        """Deliver the completion of ``job`` the way the service does; the HTTP status it got."""
        raise NotImplementedError


@dataclass
class FalFake(EngineFake):
    server: FakeFal
    name = "fal"
    hint = 5.0
    refusal = POLICY_MESSAGE
    render_refusal = POLICY_MESSAGE
    seconds = 5

    def settings(self) -> dict[str, object]:
        return {"fal_key": self.server.key, "fal_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"FAL_KEY": self.server.key, "CLIPDESK_FAL_BASE_URL": self.server.base_url}

    def webhook_settings(self, base_url: str) -> dict[str, object]:
        return {"webhook_base_url": base_url, "fal_webhook_jwks_url": self.server.jwks_url}

    def jobs(self) -> list[str]:
        return [f"{r.endpoint}|{r.id}" for r in self.server.requests.values()]

    def polls(self, job: str) -> int:
        return self.server.requests[job.rpartition("|")[2]].polls

    def submit_calls(self) -> int:
        return len(self.server.submits())

    def api_calls(self) -> int:
        return len(self.server.api_calls())

    def expected_cost(self, seconds: int) -> float:
        return round(0.05 * seconds, 4)  # kling-2.1-standard; fal reports no cost: the estimate

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.retry_after, self.server.rate_limit = retry_after, 1

    def refuse_at_submit(self) -> None:
        self.server.refuse_prompt = True

    def refuse_while_rendering(self) -> None:
        self.server.refuse_while_rendering = True

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.steps = HOLD

    def release(self) -> None:
        self.server.steps = 0

    async def close(self) -> None:
        await self.server.stop()

    async def push(self, job: str) -> int:
        request = self.server.requests[job.rpartition("|")[2]]
        self.release()
        assert request.webhook, "the request was submitted without a webhook URL"
        return await self.server.send_webhook(request.webhook, request.id)


@dataclass
class ReplicateFake(EngineFake):
    server: FakeReplicate
    name = "replicate"
    hint = 5.0
    refusal = REPLICATE_REFUSAL
    render_refusal = REPLICATE_REFUSAL
    seconds = 6

    def settings(self) -> dict[str, object]:
        return {"replicate_api_token": self.server.token, "replicate_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"REPLICATE_API_TOKEN": self.server.token, "CLIPDESK_REPLICATE_BASE_URL": self.server.base_url}

    def webhook_settings(self, base_url: str) -> dict[str, object]:
        return {"webhook_base_url": base_url, "replicate_webhook_secret": self.server.webhook_secret}

    def jobs(self) -> list[str]:
        return list(self.server.predictions)

    def polls(self, job: str) -> int:
        return self.server.predictions[job].polls

    def submit_calls(self) -> int:
        return len(self.server.creates())

    def api_calls(self) -> int:
        return len(self.server.api_calls())

    def expected_cost(self, seconds: int) -> float:
        return round(0.045 * seconds, 4)

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.retry_after, self.server.rate_limit = int(retry_after), 1

    def refuse_at_submit(self) -> None:
        self.server.refuse_prompt = True

    def refuse_while_rendering(self) -> None:
        self.server.refuse_while_rendering = True

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.steps = HOLD

    def release(self) -> None:
        self.server.steps = 0

    async def close(self) -> None:
        await self.server.stop()

    async def push(self, job: str) -> int:
        prediction = self.server.predictions[job]
        self.release()
        self.server.finish(job)
        assert prediction.webhook, "the prediction was created without a webhook"
        return await self.server.send_webhook(prediction.webhook, job)


@dataclass
class LumaFake(EngineFake):
    server: FakeLuma
    name = "luma"
    hint = 4.0
    refusal = LUMA_REFUSAL
    render_refusal = LUMA_REFUSAL
    seconds = 5
    secret = "luma-callback-secret"

    def settings(self) -> dict[str, object]:
        return {"lumaai_api_key": self.server.api_key, "luma_base_url": self.server.base_url}

    def env(self) -> dict[str, str]:
        return {"LUMAAI_API_KEY": self.server.api_key, "LUMAAI_BASE_URL": self.server.base_url}

    def webhook_settings(self, base_url: str) -> dict[str, object]:
        return {"webhook_base_url": base_url, "luma_webhook_secret": self.secret}

    def jobs(self) -> list[str]:
        return list(self.server.generations)

    def polls(self, job: str) -> int:
        return self.server.generations[job].polls

    def submit_calls(self) -> int:
        return len(self.server.creates())

    def api_calls(self) -> int:
        return len(self.server.api_calls())

    def expected_cost(self, seconds: int) -> float:
        return round(0.14 * seconds, 4)

    def rate_limit_next(self, retry_after: float) -> None:
        self.server.retry_after, self.server.rate_limit = int(retry_after), 1

    def refuse_at_submit(self) -> None:
        self.server.refuse_prompt = True

    def refuse_while_rendering(self) -> None:
        self.server.refuse_while_rendering = True

    def go_down(self) -> None:
        self.server.down = True

    def hold(self) -> None:
        self.server.steps = HOLD

    def release(self) -> None:
        self.server.steps = 0

    async def close(self) -> None:
        await self.server.stop()

    async def push(self, job: str) -> int:
        generation = self.server.generations[job]
        generation.state = "completed"
        return await self.server.send_callback(job)


@dataclass
class ComfyUIFake(EngineFake):
    server: FakeComfyUI
    name = "comfyui"
    hint = 5.0
    refusal = ""
    render_refusal = ""
    seconds = 4

    def settings(self) -> dict[str, object]:
        return {"comfyui_url": self.server.base_url, "comfyui_workflow": WORKFLOW}

    def env(self) -> dict[str, str]:
        return {"CLIPDESK_COMFYUI_URL": self.server.base_url, "CLIPDESK_COMFYUI_WORKFLOW": str(WORKFLOW)}

    def webhook_settings(self, base_url: str) -> dict[str, object]:
        return {}  # ComfyUI pushes over its websocket, which the adapter follows itself

    def jobs(self) -> list[str]:
        return list(self.server.prompts)

    def polls(self, job: str) -> int:
        return self.server.history_calls.get(job, 0)

    def submit_calls(self) -> int:
        return len([c for c in self.server.calls if c == ("POST", "/prompt")])

    def api_calls(self) -> int:
        return self.server.api_calls()

    def expected_cost(self, seconds: int) -> float:
        return 0.0  # the operator's own GPUs

    def go_down(self) -> None:
        self.server.busy = 10  # a queue this long means no GPU is free

    def hold(self) -> None:
        self.server.hold = True

    def release(self) -> None:
        self.server.release()

    async def close(self) -> None:
        await self.server.stop()

    async def push(self, job: str) -> int:
        self.server.release()  # the prompt finishes; the fake says so over the websocket
        return 200


@asynccontextmanager
async def running_engine(name: str, workdir: Path) -> AsyncIterator[EngineFake]:
    """Start the fake for ``name`` on 127.0.0.1 in this event loop."""
    if name == "fal":
        async with FakeFal() as fal:
            yield FalFake(fal)
    elif name == "replicate":
        async with FakeReplicate() as replicate:
            yield ReplicateFake(replicate)
    elif name == "luma":
        async with FakeLuma() as luma:
            yield LumaFake(luma)
    elif name == "comfyui":
        async with FakeComfyUI() as comfy:
            yield ComfyUIFake(comfy)
    else:
        raise ValueError(f"no engine fake for {name!r}")


def engine_settings(*fakes: PaidFake) -> dict[str, object]:
    """Like ``paid_fakes.settings_for``, with the new engines' credentials cleared first."""
    from tests.e2e.paid_fakes import settings_for

    return {**ENGINE_CREDENTIALS, **settings_for(*fakes)}
