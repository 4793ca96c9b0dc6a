"""Which renders of a brief are its takes (variants side by side)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import Render, RenderStatus
from bot.usecases.variants import takes_of

T0 = datetime(2026, 11, 28, tzinfo=UTC)


def render(render_id: str, variant: int, minutes: int, brief_id: str = "brf_1", **extra: object) -> Render:
    made = T0 + timedelta(minutes=minutes)
    fields: dict[str, object] = {"status": RenderStatus.READY, "created_at": made, **extra}
    return Render(render_id, "req_1", brief_id, 1, "filejob", "m", 8, "1280x720", variant=variant, **fields)  # type: ignore[arg-type]


def test_a_render_made_again_for_the_same_variant_replaces_its_take() -> None:
    # Failed checks made variant 1 again: still one take (not "take 1 of 2" with a contact sheet).
    failed = render("rnd_a", 1, 0, status=RenderStatus.FAILED)
    again = render("rnd_b", 1, 1)
    assert [r.id for r in takes_of([again, failed], "brf_1")] == ["rnd_b"]


def test_each_variant_is_one_take_in_variant_order_and_shots_or_other_briefs_are_not() -> None:
    renders = [
        render("rnd_2", 2, 0),
        render("rnd_1", 1, 1),
        render("rnd_2b", 2, 2),
        render("rnd_shot", 1, 3, shot=1, cut_id="cut_1"),
        render("rnd_other", 3, 4, brief_id="brf_2"),
    ]
    assert [r.id for r in takes_of(renders, "brf_1")] == ["rnd_1", "rnd_2b"]
