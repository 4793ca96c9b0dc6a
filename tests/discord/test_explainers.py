"""Done-when 2 on Discord: an explainer through the real SDKs — the OpenAI refiner's script, the
audio.speech narration and the translated captions — arrives in the thread with its captions
attached, and Edit script rewrites the narration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest

from bot.domain import RequestStatus
from tests.discord.conftest import Bot, World, briefs_in, clip_message, start_bot
from tests.fakes.discord import DEFERRED_UPDATE_MESSAGE, MODAL
from tests.fakes.openai import EXPLAINER_LINES, FakeOpenAI
from tests.support.providers import FileJobProvider

R = RequestStatus
ASK = "explain laminar vs turbulent flow"


@pytest.fixture
async def openai(tmp_path: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmp_path / "openai") as fake:
        yield fake


@pytest.fixture
async def teacher_bot(
    world: World, tmp_path: Path, sqlite_url: str, openai: FakeOpenAI
) -> AsyncIterator[Bot]:
    bot = await start_bot(
        world,
        tmp_path,
        sqlite_url,
        real_media=True,
        providers={"filejob": FileJobProvider(tmp_path / "jobs", clip_seconds=12.0, clip_size="1280x720")},
        openai_api_key="sk-test",
        openai_base_url=openai.base_url,
        refiner="openai",
        moderation="local",
        speech="openai",
        speech_voice="coral",
        c2pa_dev_keys=False,
    )
    yield bot
    await bot.stop()


async def test_an_explainer_arrives_with_narration_and_translated_captions_attached(
    teacher_bot: Bot, openai: FakeOpenAI
) -> None:
    bot, fake = teacher_bot, teacher_bot.fake
    request = await bot.ask(prompt=ASK, seconds=12, audience="age 14", captions="es")
    thread = int(request.target.thread or 0)
    [brief] = briefs_in(fake, thread)
    text = brief.text()
    assert "Narration script" in text and EXPLAINER_LINES[0] in text
    assert "Key terms:** laminar flow, turbulent flow" in text
    assert "Learning goal" in text and "machine-translated" in text

    done = await bot.run_until(request.id, [R.IN_REVIEW])
    clip = clip_message(fake, int(done.target.thread or 0))
    names = sorted(a["filename"] for a in clip.attachments)
    renders = await bot.app.store.renders.renders_for(done.id)
    [render] = renders
    assert render.qc_findings == []  # the voice fits its shots, the mix is in range, captions inside
    assert names == sorted(f"{render.id}.{s}" for s in ("mp4", "en.vtt", "en.srt", "es.vtt", "es.srt"))
    files = {a["filename"]: clip.files[a["id"]] for a in clip.attachments}
    spanish = files[f"{render.id}.es.vtt"].decode()
    assert spanish.startswith("WEBVTT") and "NOTE Machine-translated" in spanish
    assert "[es] Laminar flow moves in smooth layers." in spanish
    assert EXPLAINER_LINES[1] in files[f"{render.id}.en.srt"].decode()
    assert "Captions in es are machine-translated" in clip.text()
    assert "Edit script" in [b["label"] for b in clip.buttons()]

    mp4 = Path(render.clip_path or "")
    with av.open(str(mp4)) as container:
        assert container.streams.audio, "the narration is mixed into the clip"
    speech = openai.calls_to("POST", "/v1/audio/speech")
    assert [c.body["input"] for c in speech] == list(EXPLAINER_LINES)
    assert {c.body["voice"] for c in speech} == {"coral"}
    translated = [c for c in openai.calls_to("POST", "/v1/chat/completions") if "translate" in str(c.body)]
    assert len(translated) == 1


async def test_edit_script_opens_a_prefilled_modal_and_narrates_the_new_lines(
    teacher_bot: Bot, openai: FakeOpenAI
) -> None:
    bot, fake, world = teacher_bot, teacher_bot.fake, teacher_bot.world
    request = await bot.ask(prompt=ASK, seconds=12)
    done = await bot.run_until(request.id, [R.IN_REVIEW])
    thread = int(done.target.thread or 0)
    clip = clip_message(fake, thread)

    click = await fake.click(clip, "Edit script", world.requester)
    assert (await fake.wait_callback(click))["type"] == MODAL
    modal = click.modal
    assert modal is not None and modal["title"] == "Edit script"
    [label] = modal["components"]
    assert label["component"]["custom_id"] == "script"
    assert label["component"]["value"].splitlines() == [
        f"{i}. {line}" for i, line in enumerate(EXPLAINER_LINES, 1)
    ]

    empty = await fake.submit_modal(click, {"script": "  \n 2. \n"}, world.requester)
    await fake.wait_callback(empty)
    await fake.wait_for(
        lambda: any(
            "script can't be empty" in m.content for m in fake.channel_messages(thread) + empty.followups
        ),
        what="the friendly error",
    )
    assert len(briefs_in(fake, thread)) == 1  # nothing changed
    again = await fake.click(clip, "Edit script", world.requester)
    await fake.wait_callback(again)
    lines = (
        "1. Smooth layers slide past each other.\n2. Eddies swirl and mix.\n3. Faster flow turns turbulent."
    )
    submitted = await fake.submit_modal(again, {"script": lines}, world.requester)
    assert (await fake.wait_callback(submitted))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: len(briefs_in(fake, thread)) == 2, what="brief v2")
    assert "Eddies swirl and mix." in briefs_in(fake, thread)[-1].text()

    await bot.run_until(request.id, [R.IN_REVIEW])
    latest = await bot.app.store.requests.latest_brief(request.id)
    assert latest is not None and latest.version == 2 and latest.explainer is not None
    assert latest.explainer.script[1] == "Eddies swirl and mix." and latest.note == "script edited"
    assert clip_message(fake, thread, version=2).attachments
    assert "Eddies swirl and mix." in [c.body["input"] for c in openai.calls_to("POST", "/v1/audio/speech")]
