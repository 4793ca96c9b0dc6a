"""ComfyUI: every workflow in deploy/comfyui renders against the fake; bad workflows and outputs say why."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.providers.comfyui import ComfyUIProvider
from adapters.providers.comfyui_workflow import WorkflowError, load_workflow
from bot.errors import CapacityError, SubmissionUncertain
from bot.ports import Continuity, RemoteState
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.media import decode_to_end
from tests.support.specs import bottle_spec, poll_to_end
from tests.support.waiting import wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "comfyui"
WORKFLOWS = sorted(DEPLOY.glob("*.json"))


@pytest.fixture
async def comfy() -> AsyncIterator[FakeComfyUI]:
    async with FakeComfyUI() as fake:
        yield fake


def provider_for(comfy: FakeComfyUI, workflow: Path, **kwargs: object) -> ComfyUIProvider:
    return ComfyUIProvider(comfy.base_url, load_workflow(workflow), timeout=2.0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.stem for w in WORKFLOWS])
async def test_each_deployed_workflow_renders_a_clip_of_its_declared_shape(
    comfy: FakeComfyUI, workflow: Path, tmp_path: Path
) -> None:
    provider = provider_for(comfy, workflow)
    try:
        model = provider.capabilities().model()
        aspect, size = next(iter(model.sizes.items()))
        seconds = model.durations[0]
        spec = bottle_spec(model=model.name, seconds=seconds, aspect=aspect, size=size, seed=42)
        remote_id = await provider.submit(spec)
        [sent] = comfy.submitted()
        text = json.dumps(sent.graph)
        assert "{{" not in text and spec.brief.prompt in text
        assert '"seed": 42' in text.replace("noise_seed", "seed")
        assert (await poll_to_end(provider, remote_id))[-1].state == RemoteState.COMPLETED
        await provider.download(remote_id, tmp_path / "clip.mp4")
        facts = decode_to_end(tmp_path / "clip.mp4")
        assert facts.seconds == pytest.approx(seconds, abs=0.5)
        assert (facts.width > facts.height) == (aspect == "16:9")
    finally:
        await provider.aclose()


def test_a_workflow_without_the_placeholders_clipdesk_needs_is_a_clear_config_error(tmp_path: Path) -> None:
    graph = json.loads((DEPLOY / "wan22-ti2v-5b.json").read_text())
    graph["3"]["inputs"]["seed"] = 7
    path = tmp_path / "no-seed.json"
    path.write_text(json.dumps(graph))
    with pytest.raises(WorkflowError, match=r"no-seed.json lacks the placeholders .*: \{\{seed\}\}"):
        load_workflow(path)
    path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(WorkflowError, match="Save \\(API\\)"):
        load_workflow(path)
    path.write_text("{not json")
    with pytest.raises(WorkflowError, match="cannot read"):
        load_workflow(path)


async def test_an_image_output_instead_of_a_video_fails_with_a_clear_reason(comfy: FakeComfyUI) -> None:
    comfy.image_output = True
    provider = provider_for(comfy, DEPLOY / "wan22-ti2v-5b.json")
    try:
        remote_id = await provider.submit(bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704"))
        final = (await poll_to_end(provider, remote_id))[-1]
        assert final.state == RemoteState.FAILED and not final.charged
        assert final.error is not None and "produced an image" in final.error and "SaveVideo" in final.error
    finally:
        await provider.aclose()


async def test_a_failing_node_reports_comfyuis_error(comfy: FakeComfyUI) -> None:
    comfy.fail_node = True
    provider = provider_for(comfy, DEPLOY / "wan22-ti2v-5b.json")
    try:
        remote_id = await provider.submit(bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704"))
        final = (await poll_to_end(provider, remote_id))[-1]
        assert final.state == RemoteState.FAILED and final.error and "KSampler" in final.error
    finally:
        await provider.aclose()


async def test_a_long_queue_is_capacity_and_nothing_is_queued(comfy: FakeComfyUI) -> None:
    comfy.busy = 4
    provider = provider_for(comfy, DEPLOY / "wan22-ti2v-5b.json", max_queue=4)
    try:
        with pytest.raises(CapacityError, match="no GPU free"):
            await provider.submit(bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704"))
        assert comfy.submitted() == []
    finally:
        await provider.aclose()


async def test_the_websocket_reports_progress_and_pokes_when_the_prompt_is_done(comfy: FakeComfyUI) -> None:
    comfy.steps, comfy.step_seconds = 4, 0.05
    provider = provider_for(comfy, DEPLOY / "wan22-ti2v-5b.json")
    finished: list[str] = []
    provider.on_finished = finished.append
    try:
        remote_id = await provider.submit(bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704"))

        async def poked() -> bool:
            return remote_id in finished

        await wait_for(poked, seconds=30)
        assert (await provider.status(remote_id)).state == RemoteState.COMPLETED
    finally:
        await provider.aclose()


async def test_a_first_frame_is_uploaded_and_named_in_the_graph(comfy: FakeComfyUI, tmp_path: Path) -> None:
    graph = json.loads((DEPLOY / "wan22-ti2v-5b.json").read_text())
    graph["60"] = {"class_type": "LoadImage", "inputs": {"image": "{{first_frame}}"}}
    graph["55"]["inputs"]["start_image"] = ["60", 0]
    path = tmp_path / "wan-i2v.json"
    path.write_text(json.dumps(graph))
    frame = tmp_path / "frame.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\nframe")
    provider = provider_for(comfy, path)
    try:
        assert Continuity.FIRST_FRAME in provider.capabilities().model().continuity
        spec = bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704")
        await provider.submit(spec.__class__(**{**spec.__dict__, "first_frame": frame}))
        [name] = comfy.uploads
        assert comfy.uploads[name].endswith(b"frame")
        assert comfy.submitted()[0].graph["60"]["inputs"]["image"] == name
    finally:
        await provider.aclose()


async def test_an_uncertain_queue_is_found_again_by_its_prompt_id(comfy: FakeComfyUI) -> None:
    provider = provider_for(comfy, DEPLOY / "wan22-ti2v-5b.json")
    spec = bottle_spec(model="wan-2.2-5b", seconds=2, size="1280x704")
    spec = spec.__class__(**{**spec.__dict__, "idempotency_key": "rnd_1:2"})
    try:
        assert await provider.find(spec) is None
        comfy.faults.fail_after_create(502)
        with pytest.raises(SubmissionUncertain):
            await provider.submit(spec)
        [queued] = comfy.submitted()
        assert await provider.find(spec) == queued.id
    finally:
        await provider.aclose()
