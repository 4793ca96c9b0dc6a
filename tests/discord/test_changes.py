"""Render, Edit prompt, Regenerate and Reject in a Discord thread: the clicks that change a request."""

from __future__ import annotations

from pathlib import Path

from bot.domain import RequestStatus
from tests.discord.conftest import Bot, World, briefs_in, clip_message, messages_in, start_bot
from tests.fakes.discord import CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, EPHEMERAL, MODAL
from tests.support.providers import FileJobProvider

R = RequestStatus


async def test_a_paid_provider_waits_for_the_render_click(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    paid = FileJobProvider(tmp_path / "jobs", price=0.10)
    bot = await start_bot(world, tmp_path, sqlite_url, providers={"filejob": paid})
    try:
        fake = world.fake
        request = await bot.ask(seconds=4)
        thread = int(request.target.thread or 0)
        [brief] = briefs_in(fake, thread)
        assert [b["label"] for b in brief.buttons()] == ["Render", "Edit prompt", "Cancel"]
        assert "Estimated cost: $0.40" in brief.text()
        assert request.status == R.AWAITING_CONFIRMATION

        await bot.app.worker.claim_once()
        assert paid.submits() == []  # nothing is paid for before the click

        click = await fake.click(brief, "Render", world.requester)
        assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
        done = await bot.run_until(request.id, [R.IN_REVIEW])
        assert len(paid.submits()) == 1
        assert clip_message(fake, thread).attachments
        # The brief's buttons stay visible but can no longer be pressed.
        assert brief.buttons() and all(b["disabled"] for b in brief.buttons())
        assert done.status == R.IN_REVIEW
    finally:
        await bot.stop()


async def test_edit_prompt_opens_a_prefilled_modal_and_writes_brief_v2(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request, clip = await bot.ready_for_review()
    thread = int(request.target.thread or 0)
    brief = await bot.app.store.requests.latest_brief(request.id)
    assert brief is not None

    click = await fake.click(clip, "Edit prompt", world.requester)
    answer = await fake.wait_callback(click)
    assert answer["type"] == MODAL  # the modal is the click's first and only answer
    modal = click.modal
    assert modal is not None and modal["title"] == "Edit prompt"
    [label] = modal["components"]
    assert label["component"]["custom_id"] == "prompt"
    assert label["component"]["value"] == brief.prompt  # prefilled with the current brief

    submitted = await fake.submit_modal(
        click,
        {"prompt": "a calm 4s explainer of laminar vs turbulent flow with dye in water"},
        world.requester,
    )
    assert (await fake.wait_callback(submitted))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: len(briefs_in(fake, thread)) == 2, what="brief v2")
    assert briefs_in(fake, thread)[-1].content == "📝 Brief v2"
    assert "dye in water" in briefs_in(fake, thread)[-1].text()

    done = await bot.run_until(request.id, [R.IN_REVIEW])
    latest = await bot.app.store.requests.latest_brief(done.id)
    assert latest is not None and latest.version == 2
    assert clip_message(fake, thread, version=2).attachments


async def test_regenerate_posts_version_2_in_the_same_thread(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request, clip = await bot.ready_for_review()
    thread = int(request.target.thread or 0)

    click = await fake.click(clip, "Regenerate", world.requester)
    assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: len(briefs_in(fake, thread)) == 2, what="brief v2")
    done = await bot.run_until(request.id, [R.IN_REVIEW])

    second = clip_message(fake, thread, version=2)
    assert second.channel_id == thread and second.attachments
    renders = await bot.app.store.renders.renders_for(done.id)
    assert sorted(r.brief_version for r in renders) == [1, 2]
    assert len(fake.threads(world.channel.id)) == 1  # no new thread, no new parent message
    assert len(messages_in(fake, world.channel.id)) == 1


async def test_reject_asks_for_a_reason_in_a_modal_and_records_it(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request, clip = await bot.ready_for_review()

    click = await fake.click(clip, "Reject", world.lead)
    assert (await fake.wait_callback(click))["type"] == MODAL
    submitted = await fake.submit_modal(click, {"reason": "the flow looks turbulent everywhere"}, world.lead)
    assert (await fake.wait_callback(submitted))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: clip.content.startswith("⛔ rejected by"), what="the rejection")
    assert world.lead.mention in clip.content
    assert "the flow looks turbulent everywhere" in clip.text()
    assert all(b["disabled"] for b in clip.buttons())
    final = await bot.app.store.requests.get_request(request.id)
    assert final is not None and final.status == R.REJECTED


async def test_reject_by_a_member_without_the_role_gets_no_modal_only_a_refusal(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    _, clip = await bot.ready_for_review()

    click = await fake.click(clip, "Reject", world.stranger)
    answer = await fake.wait_callback(click)
    # The core refused before any form: the refusal itself is the (ephemeral) first answer.
    assert answer["type"] == CHANNEL_MESSAGE
    assert answer["data"]["flags"] & EPHEMERAL and "Only approvers" in answer["data"]["content"]
    assert click.modal is None and click.followups == []
