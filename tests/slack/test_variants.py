"""Variants on Slack: one contact sheet of the takes with a Pick button each; a pick goes to review."""

from __future__ import annotations

import io

from PIL import Image

from bot.domain import RenderStatus, RequestStatus
from tests.slack.conftest import LEAD, Bed

R = RequestStatus


def _rows_labelled(png: bytes, rows: int) -> bool:
    """Each row's label column (left of the first frame) has light pixels: the "#k" drawn there."""
    image = Image.open(io.BytesIO(png)).convert("L")
    height = (image.height - 8) // rows

    def brightest(row: int) -> float:
        _darkest, light = image.crop((0, 8 + row * height, 40, 8 + row * height + height - 8)).getextrema()
        assert not isinstance(light, tuple)  # one band ("L"): one lowest and one highest value
        return light

    return all(brightest(r) > 200 for r in range(rows))


async def test_two_takes_come_with_one_contact_sheet_and_pick_2_goes_to_review(bed: Bed) -> None:
    await bed.video("a 4s clip of a red kite over a hill --variants 2")
    parent = bed.parent()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])
    replies = bed.replies(parent)
    # Each take is posted as it finishes, so their order in the thread is the render order.
    assert sorted(m.headline[:13] for m in replies if m.text.startswith("🎞️ Take")) == [
        "🎞️ Take #1 of",
        "🎞️ Take #2 of",
    ]
    [sheet] = [m for m in replies if "takes side by side" in m.text]
    assert [b["text"]["text"] for b in sheet.buttons()] == ["Pick #1", "Pick #2"]
    [png] = [f for f in bed.fake.files.values() if f.filename.endswith(".png")]
    assert png.data is not None and png.data.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png.data))
    assert image.height == 2 * (144 + 8) + 8  # one row per take: 256-wide cells of a 16:9 clip
    assert _rows_labelled(png.data, 2)

    await bed.click(sheet, "pick.2", user=LEAD)
    await bed.run_until(request.id, [R.IN_REVIEW])
    takes = sorted((r for r in await bed.app.store.renders.renders_for(request.id)), key=lambda r: r.variant)
    assert [r.status for r in takes] == [RenderStatus.CANCELLED, RenderStatus.READY]  # #1 archived
    assert "Take #2 picked by" in sheet.text
    [review] = [m for m in bed.replies(parent) if m.text.startswith("🎬 Your clip is ready for review")]
    assert review.buttons()[0]["value"].endswith(takes[1].id)  # Approve names take #2

    await bed.click(review, "approve", user=LEAD)
    approved = await bed.request_in(parent)
    assert approved.status == R.APPROVED
