"""A multi-shot cut on Slack: a static_select lists its shots; choosing one renders only that shot again."""

from __future__ import annotations

from bot.domain import RequestStatus
from tests.slack.conftest import REQUESTER, Bed
from tests.support.providers import FileJobProvider

R = RequestStatus


async def test_choosing_shot_2_in_the_shot_menu_renders_it_alone_and_posts_cut_v2(bed: Bed) -> None:
    await bed.video("a 16 second clip of a red kite over a hill")
    parent = bed.parent()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])
    [first] = [m for m in bed.replies(parent) if m.text.startswith("🎬 Cut v1 is ready for review")]
    assert [m["action_id"] for m in first.menus()] == ["clipdesk_regenerate_shot", "clipdesk_edit_shot"]
    assert [o["text"]["text"][:6] for o in first.menus()[0]["options"]] == ["Shot 1", "Shot 2"]
    provider = bed.app.worker.ctx.providers.get("filejob")
    assert isinstance(provider, FileJobProvider) and len(provider.submits()) == 2  # a job per shot

    status, _ = await bed.deliver(
        bed.fake.build_choice(first, "clipdesk_regenerate_shot", "Shot 2", user=REQUESTER)
    )
    assert status == 200
    await bed.settle()
    second = await bed.app.store.cuts.latest_cut(request.id)
    assert second is not None and second.version == 2
    await bed.run_until(request.id, [R.IN_REVIEW])
    assert [m for m in bed.replies(parent) if m.text.startswith("🎬 Cut v2 is ready for review")]
    assert len(provider.submits()) == 3  # exactly one new job
    assert any("Rendering shot 2 again" in m.text for m in bed.replies(parent))
