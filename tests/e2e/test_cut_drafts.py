"""Draft, then final: a cheap draft of the shots, Make final renders them again at full quality.

A two-tier provider (a draft model at low resolution, a final model at full resolution,
different prices) behind the console thread; the whole app runs in this process.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession, _one_line, local_actor
from adapters.runtime.container import build_app
from bot.domain import RequestOptions, RequestStatus
from bot.messages import Action
from bot.policy import budget_key
from bot.ports import Capabilities, ModelSpec, RemoteState, RemoteStatus, RenderSpec, Tier
from tests.fakes.media import decode_to_end
from tests.support.harness import test_settings
from tests.support.providers import SIZES, FileJobProvider

PRICES = {"tiered-fast": 0.02, "tiered-pro": 0.10}
CLIP_SIZES = {"tiered-fast": "320x180", "tiered-pro": "640x360"}


class TieredJobs(FileJobProvider):
    """A provider with a draft tier and a final tier: different models, sizes and prices."""

    def capabilities(self) -> Capabilities:
        return Capabilities(
            self.name,
            (
                ModelSpec("tiered-pro", (4, 8), SIZES, PRICES["tiered-pro"]),
                ModelSpec("tiered-fast", (4, 8), SIZES, PRICES["tiered-fast"], tier=Tier.DRAFT),
            ),
            "tiered-pro",
        )

    async def submit(self, spec: RenderSpec) -> str:
        job = await super().submit(spec)
        path = self.root / f"{job}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "model": spec.model, "seed": spec.seed}))
        return job

    async def status(self, remote_id: str) -> RemoteStatus:
        data = json.loads((self.root / f"{remote_id}.json").read_text())
        return RemoteStatus(RemoteState.COMPLETED, 100, cost=PRICES[data["model"]] * data["seconds"])

    async def download(self, remote_id: str, dest: Path) -> None:
        data = json.loads((self.root / f"{remote_id}.json").read_text())
        self.clip_size, self.clip_seconds = CLIP_SIZES[data["model"]], float(data["seconds"])
        await super().download(remote_id, dest)

    def jobs(self) -> list[dict[str, Any]]:
        """The jobs made, oldest first."""
        made = [json.loads(p.read_text()) for p in self.root.glob("job_*.json")]
        return sorted(made, key=lambda job: float(job["created"]))


async def test_a_draft_then_make_final_renders_twice_at_two_qualities_and_the_approval_names_the_final(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = test_settings(tmp_path, sqlite_url, provider="tiered", auto_render_max_cost=5.0)
    provider = TieredJobs(tmp_path / "jobs", name="tiered")
    console = Console(record=True, width=240)
    chat = ConsoleChat(console)
    app = await build_app(settings, chat_ports=[chat], providers={"tiered": provider})
    try:
        session = ConsoleSession(app, chat, local_actor())
        request = await session.ask("an 8 second clip of a red kite over a hill", RequestOptions(draft=True))
        assert request is not None
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW, request.failure_reason
        said = console.export_text(clear=True)
        assert "$0.16 draft · $0.80 final" in said  # both costs, before anything was spent
        assert "Draft v1 is ready for review" in said and "Make final" in said
        draft = await app.store.cuts.latest_cut(request.id)
        assert draft is not None and draft.draft

        # Approving the draft itself is refused, whichever way in: it names Make final instead.
        await _one_line(session, console, "approve")
        assert "This is a draft: press Make final" in console.export_text(clear=True)
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW
        assert not [
            e
            for e in await app.store.audit.audit_events(request_id=request.id)
            if e.kind == "review.approved"
        ]

        await session.press(Action.MAKE_FINAL, request)
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW, request.failure_reason
        final = await app.store.cuts.latest_cut(request.id)
        assert final is not None and final.version == 2 and not final.draft
        said = console.export_text(clear=True)
        assert "Rendering the final on tiered · tiered-pro ($0.80; the draft cost $0.16)" in said
        assert "Cut v2 is ready for review" in said

        jobs = provider.jobs()
        assert [j["model"] for j in jobs] == ["tiered-fast", "tiered-pro"]  # two renders, two tiers
        assert jobs[0]["seed"] == jobs[1]["seed"]  # the same shot, the same seed
        clips = []
        for cut in (draft, final):
            render = await app.store.renders.get_render(cut.render_id)
            assert render is not None and render.clip_path is not None
            clips.append(decode_to_end(Path(render.clip_path)))
        assert [(c.width, c.height) for c in clips] == [(320, 180), (640, 360)]
        assert all(abs(c.seconds - 8.0) <= 0.1 for c in clips)

        shots = [r for r in await app.store.renders.renders_for(request.id) if r.shot is not None]
        assert sorted(r.cost_actual or 0.0 for r in shots) == [0.16, 0.8]  # both costs recorded
        since = datetime.now(request.created_at.tzinfo) - timedelta(days=1)
        spent = await app.store.renders.usage("user", budget_key(request.target, request.requester), since)
        assert abs(spent - 0.96) < 1e-6  # both count against the budget

        await _one_line(session, console, "approve")
        request = await session.settle(request.id)
        assert request.status == RequestStatus.APPROVED
        assert "cut v2)" in console.export_text(clear=True)
        approvals = [
            e
            for e in await app.store.audit.audit_events(request_id=request.id)
            if e.kind == "review.approved"
        ]
        assert [e.render_id for e in approvals] == [final.render_id]  # the approval names the final
    finally:
        await app.close()
