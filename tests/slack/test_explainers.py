"""Done-when 2 on Slack: an explainer through the real SDKs (slack_sdk's files_upload_v2 and the
openai SDK's structured output, audio.speech and translation) arrives with its captions uploaded
into the thread beside the clip, and Edit script opens a modal that rewrites the narration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.llm.openai_refiner import OpenAIRefiner
from bot.domain import RequestStatus
from tests.fakes.openai import EXPLAINER_LINES, FakeOpenAI
from tests.fakes.slack import FakeSlack, Posted
from tests.slack.conftest import REQUESTER, Bed, start_bed
from tests.support.providers import FileJobProvider

R = RequestStatus
ASK = "explain laminar vs turbulent flow --seconds 12 --audience 'age 14' --captions es"


@pytest.fixture
async def teacher_bed(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> AsyncIterator[tuple[Bed, FakeOpenAI]]:
    async with FakeOpenAI(tmp_path / "openai") as openai:
        bed = await start_bed(
            tmp_path,
            sqlite_url,
            fake,
            provider=FileJobProvider(tmp_path / "jobs", clip_seconds=12.0, clip_size="1280x720"),
            real_media=True,
            openai_api_key="sk-test",
            openai_base_url=openai.base_url,
            refiner=OpenAIRefiner(openai.client(), "gpt-4.1-mini"),  # translates for captions too
            moderation="local",
            speech="openai",
            c2pa_dev_keys=False,
        )
        yield bed, openai
        await bed.close()


async def clip_of(bed: Bed) -> tuple[Posted, Posted]:
    parent = bed.parent()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])
    clips = [m for m in bed.replies(parent) if m.text.startswith("🎬 Your clip is ready")]
    return parent, clips[-1]


async def test_captions_are_uploaded_with_the_clip_and_the_brief_shows_the_script(
    teacher_bed: tuple[Bed, FakeOpenAI],
) -> None:
    bed, openai = teacher_bed
    await bed.video(ASK)
    parent, clip = await clip_of(bed)

    [brief] = [m for m in bed.replies(parent) if m.text.startswith("📝 Brief")]
    assert "Narration script" in brief.all_text() and EXPLAINER_LINES[2] in brief.all_text()
    assert "Edit script" in [b["text"]["text"] for b in clip.buttons()]

    uploads = {f.filename: f for f in bed.fake.files.values()}
    stems = {name.split(".")[0] for name in uploads}
    [stem] = stems
    assert sorted(uploads) == sorted(f"{stem}.{s}" for s in ("mp4", "en.vtt", "en.srt", "es.vtt", "es.srt"))
    assert all(f.thread_ts == parent.ts and f.data for f in uploads.values())  # in the thread, complete
    assert uploads[f"{stem}.es.vtt"].title == "Captions (es, WebVTT)"
    spanish = (uploads[f"{stem}.es.vtt"].data or b"").decode()
    assert "NOTE Machine-translated" in spanish and "[es] Turbulent flow swirls and mixes." in spanish
    assert "machine-translated" in clip.all_text()
    assert len(openai.calls_to("POST", "/v1/audio/speech")) == len(EXPLAINER_LINES)


async def test_edit_script_opens_a_modal_prefilled_with_the_lines_and_makes_brief_v2(
    teacher_bed: tuple[Bed, FakeOpenAI],
) -> None:
    bed, openai = teacher_bed
    await bed.video(ASK)
    parent, clip = await clip_of(bed)

    await bed.click(clip, "edit_script", user=REQUESTER)
    (view,) = bed.fake.views
    assert view["callback_id"] == "clipdesk_edit_script" and view["title"]["text"] == "Edit script"
    assert "1. Laminar flow moves in smooth layers." in str(view["blocks"])

    lines = "1. Water slides in layers.\n2. Eddies swirl and mix.\n3. Speed tips it over."
    status, body = await bed.deliver(bed.fake.build_submission(view, {"script": lines}, user=REQUESTER))
    await bed.settle()
    assert status == 200 and not body

    briefs = [m for m in bed.replies(parent) if m.text.startswith("📝 Brief")]
    assert [m.headline for m in briefs] == ["📝 Brief v1", "📝 Brief v2"]
    assert "Eddies swirl and mix." in briefs[-1].all_text()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])
    spoken = [c.body["input"] for c in openai.calls_to("POST", "/v1/audio/speech")]
    assert spoken[-3:] == ["Water slides in layers.", "Eddies swirl and mix.", "Speed tips it over."]
