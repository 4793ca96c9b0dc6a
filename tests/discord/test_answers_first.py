"""Answers go first: work that can wait waits while interactions are being answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.discord.replies import AnswersFirst
from bot.domain import RequestStatus
from tests.discord.conftest import ASK, Bot, World, briefs_in, start_bot
from tests.fakes.discord import CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE
from tests.support.providers import FileJobProvider
from tests.support.waiting import wait_for

R = RequestStatus
LONG = 60.0  # seconds: longer than any of these tests, so only an answer can release the work


async def test_work_that_can_wait_starts_when_the_last_answer_in_flight_is_sent() -> None:
    answers = AnswersFirst(hold=LONG)
    with answers.answer():
        with answers.answer():
            waiting = asyncio.create_task(answers.wait())
            await wait_for(lambda: _held(answers), seconds=10)
        await asyncio.sleep(0)
        assert not waiting.done() and answers.answering == 1 and answers.waiting == 1
    await asyncio.wait_for(waiting, 10)
    assert answers.answering == 0


async def test_a_steady_stream_of_answers_holds_work_back_only_so_long() -> None:
    answers = AnswersFirst(hold=0.05)
    with answers.answer():  # never answered within the test
        await asyncio.wait_for(answers.wait(), 10)


async def test_the_thread_opens_after_the_answers_in_flight(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    bot = await start_bot(world, tmp_path, sqlite_url)
    try:
        fake, answers = world.fake, bot.platform.chat.answers
        answers.hold = LONG
        with answers.answer():  # another member's interaction, still being answered
            command = await fake.slash("video", world.requester, {"prompt": ASK, "seconds": 4})
            said = await fake.wait_callback(command)
            assert said["type"] == CHANNEL_MESSAGE and "On it" in said["data"]["content"]
            recorded = await bot.app.store.requests.open_requests(
                "discord", str(fake.guild.id), str(world.requester.id)
            )
            assert len(recorded) == 1  # recorded before "on it", as ever
            await wait_for(lambda: _held(answers), seconds=30)  # the rest of the ask waits its turn
            still = await bot.app.store.requests.get_request(recorded[0].id)
            assert still is not None and still.status == R.RECEIVED and fake.threads() == []
        await bot.request_for(world.requester)
        assert len(fake.threads()) == 1
    finally:
        await bot.stop()


async def test_a_click_is_answered_at_once_and_its_render_queued_after_the_answers_in_flight(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    paid = FileJobProvider(tmp_path / "jobs", price=0.10)
    bot = await start_bot(world, tmp_path, sqlite_url, providers={"filejob": paid})
    try:
        fake, answers = world.fake, bot.platform.chat.answers
        request = await bot.ask(seconds=4)
        [brief] = briefs_in(fake, int(request.target.thread or 0))
        answers.hold = LONG
        with answers.answer():
            click = await fake.click(brief, "Render", world.requester)
            assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
            await wait_for(lambda: _held(answers), seconds=30)
            still = await bot.app.store.requests.get_request(request.id)
            assert still is not None and still.status == R.AWAITING_CONFIRMATION
        await wait_for(lambda: _past_confirmation(bot, request.id), seconds=30)
    finally:
        await bot.stop()


async def _held(answers: AnswersFirst) -> bool:
    return answers.waiting > 0


async def _past_confirmation(bot: Bot, request_id: str) -> bool:
    found = await bot.app.store.requests.get_request(request_id)
    return found is not None and found.status != R.AWAITING_CONFIRMATION
