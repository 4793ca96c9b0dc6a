"""A multi-shot cut on Discord: its shots in a select menu; picking one renders only that shot again."""

from __future__ import annotations

from bot.domain import RequestStatus
from tests.discord.conftest import Bot, messages_in
from tests.fakes.discord import DEFERRED_UPDATE_MESSAGE
from tests.support.providers import FileJobProvider
from tests.support.waiting import wait_for

R = RequestStatus
PICK = "Regenerate one shot…"


async def test_picking_shot_2_in_the_menu_renders_it_alone_and_posts_cut_v2(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request = await bot.ask(prompt="a 16 second clip of a red kite over a hill")
    done = await bot.run_until(request.id, [R.IN_REVIEW])
    thread = int(done.target.thread or 0)
    [first] = [m for m in messages_in(fake, thread) if m.content.startswith("🎬 Cut v1 is ready for review")]
    menus = [c for c in first.buttons() if c.get("type") == 3]
    assert [m["placeholder"] for m in menus] == [PICK, "Edit one shot…"]
    assert [o["label"][:6] for o in menus[0]["options"]] == ["Shot 1", "Shot 2"]
    provider = bot.app.worker.ctx.providers.get("filejob")
    assert isinstance(provider, FileJobProvider) and len(provider.submits()) == 2  # one job per shot

    choice = await fake.choose(first, PICK, "Shot 2", world.requester)
    assert (await fake.wait_callback(choice))["type"] == DEFERRED_UPDATE_MESSAGE

    async def cut_v2_queued() -> bool:
        latest = await bot.app.store.cuts.latest_cut(request.id)
        return latest is not None and latest.version == 2

    await wait_for(cut_v2_queued)
    await bot.run_until(request.id, [R.IN_REVIEW])
    await fake.wait_for(
        lambda: any(m.content.startswith("🎬 Cut v2 is ready for review") for m in messages_in(fake, thread)),
        what="cut v2 in the thread",
    )
    assert len(provider.submits()) == 3  # exactly one new job: shot 2
    assert any("Rendering shot 2 again" in m.content for m in messages_in(fake, thread))
    assert fake.unhandled == []
