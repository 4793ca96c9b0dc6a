"""The review page shows an explainer's narration script beside the clip (and the clip has the voice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.e2e.test_review_page import (
    CHROMIUM,
    LEAD,
    _ask,
    _link,
    _request_id,
    _settings,
    browser,  # noqa: F401  (fixture)
    slack,  # noqa: F401  (fixture)
)
from tests.fakes.slack import TEAM, FakeSlack
from tests.support.api_serve import serve

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


async def test_the_request_page_shows_the_narration_script_beside_the_clip(
    tmp_path: Path,
    slack: FakeSlack,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    async with serve(tmp_path, **_settings(slack)) as served:
        reader = await served.token(TEAM, "U_API", "requests:read")
        clip = await _ask(served, slack, "explain tides --seconds 8")
        assert "Edit script" in str(clip.buttons())
        request_id = await _request_id(served, reader, "tides")

        page = await (await browser.new_context()).new_page()
        answer = await page.goto(await _link(served, LEAD, request_id))
        assert answer is not None and answer.ok
        script = page.locator(".brief .script")
        assert await script.count() == 1
        text = str(await script.text_content())
        assert "Narration script (en)" in text and "Tides." in text and "That was tides." in text
        assert "Key terms: tides" in text
