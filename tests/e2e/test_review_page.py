"""The review page in real Chromium (Debian's, through Playwright) against ``clipdesk serve`` and fake Slack.

The sign-in links are minted by ``clipdesk review link``, the same signer the
thread's button would use.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot import texts
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, Posted, post_http
from tests.support.api_serve import Served, serve
from tests.support.cli_run import clipdesk
from tests.support.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]
LEAD = "ULEAD"
ASKER = "UASKER"
OTHER = "UOTHER"
CHANNEL = "C0VIDEO"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/review/login\?t=[^\s>|]+")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        await launched.close()


async def _link(served: Served, user: str, request_id: str | None = None, minutes: str = "10") -> str:
    args = ["review", "link", "--workspace", TEAM, "--user", user, "--minutes", minutes]
    if request_id:
        args += ["--request", request_id]
    run = await clipdesk(served.tmp, *args, env=served.env)
    assert run.code == 0, run.err
    return run.out.strip()


async def _ask(served: Served, slack: FakeSlack, text: str) -> Posted:
    """``/video`` in the channel; return the clip message once it is in the thread."""
    before = len(slack.parents(CHANNEL))
    status, _ = await post_http(
        served.base + "/slack/events", slack.build_command(text, user=ASKER, channel=CHANNEL)
    )
    assert status == 200

    async def clip() -> Posted | None:
        parents = slack.parents(CHANNEL)
        if len(parents) <= before:
            return None
        for message in slack.thread(CHANNEL, parents[-1].ts):
            if any(b["action_id"] == "clipdesk_approve" for b in message.buttons()):
                return message
        return None

    found: Posted = await wait_for(clip, seconds=120)
    return found


async def _request_id(served: Served, token: str, prompt: str) -> str:
    _, _, page = await served.call("GET", "/api/v1/requests?status=in_review&limit=100", token)
    (match,) = [item["id"] for item in page["items"] if prompt in item["prompt"]]
    return str(match)


async def _status_on_page(page: Page) -> str:
    return str(await page.text_content("#status")).strip()


async def _until_status(page: Page, wanted: str) -> None:
    await page.wait_for_function(
        "w => (document.querySelector('#status') || {textContent: ''}).textContent.trim() === w",
        arg=wanted,
        timeout=60_000,
    )


def _settings(slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "slack_approvers": LEAD,
        "watermark": "false",
    }


async def test_link_plays_the_clip_and_approve_reaches_the_thread(
    tmp_path: Path, slack: FakeSlack, browser: Browser
) -> None:
    async with serve(tmp_path, **_settings(slack)) as served:
        reader = await served.token(TEAM, "U_API", "requests:read,reviews:decide")
        clip = await _ask(served, slack, "a 4s clip of a red kite over hills")
        first = await _request_id(served, reader, "red kite")
        second_clip = await _ask(served, slack, "a 4s clip of a paper boat")
        second = await _request_id(served, reader, "paper boat")

        # "Open review page" on the clip in the thread: a one-time link, for the presser alone.
        status, _ = await post_http(
            served.base + "/slack/events", slack.build_click(clip, "clipdesk_open_review", user=LEAD)
        )
        assert status == 200

        async def link_sent() -> str | None:
            found = [m for text in slack.ephemeral_to(LEAD) for m in LINK.findall(text)]
            return found[-1] if found else None

        link = await wait_for(link_sent, seconds=30)
        assert not any(LINK.search(text) for text in slack.ephemeral_to(ASKER))
        context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        page = await context.new_page()
        answer = await page.goto(link)
        assert answer is not None and answer.ok and page.url.endswith(f"/review/requests/{first}")
        (cookie,) = await context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        # The clip plays: the player's clock moves.
        await page.evaluate("document.getElementById('player').play()")
        await page.wait_for_function("document.getElementById('player').currentTime > 0.3", timeout=60_000)
        assert await page.locator("#audit li").count() >= 5
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing overflows a phone-width screen

        # Approve on the page: the thread's clip message says so.
        await page.click("#approve")
        await _until_status(page, "approved")

        async def said_in_thread() -> bool:
            return f"approved by <@{LEAD}>" in slack.message(CHANNEL, clip.ts).text

        await wait_for(said_in_thread, seconds=30)
        assert slack.message(CHANNEL, clip.ts).buttons() == []

        # A decision made in the thread shows on the open page, live. A fresh tab: the first
        # page reloads itself on its own later changes (the thread's update), which would
        # abort a navigation started in the same tab.
        await page.close()
        page = await context.new_page()
        await page.goto(f"{served.base}/review/requests/{second}")
        assert await _status_on_page(page) == "in review"
        status, _ = await post_http(
            served.base + "/slack/events", slack.build_click(second_clip, "clipdesk_approve", user=LEAD)
        )
        assert status == 200
        await _until_status(page, "approved")

        # The queue lists the workspace's requests.
        await page.goto(f"{served.base}/review")
        assert await page.locator("#queue tr[data-status]").count() == 2
        await context.close()


async def test_refusals_non_approver_forged_post_expired_and_reused_links_missing_csrf(
    tmp_path: Path, slack: FakeSlack, browser: Browser
) -> None:
    async with serve(tmp_path, **_settings(slack)) as served:
        reader = await served.token(TEAM, "U_API", "requests:read")
        await _ask(served, slack, "a 4s clip of a lighthouse")
        request_id = await _request_id(served, reader, "lighthouse")

        # Someone who is not an approver sees no Approve button, and a forged POST is refused.
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(await _link(served, OTHER, request_id))
        assert await page.locator("#approve").count() == 0
        assert await page.locator("#reject").count() == 0
        csrf = await page.get_attribute("meta[name=csrf-token]", "content")
        assert csrf
        forged = await page.request.post(
            f"{served.base}/review/requests/{request_id}/approve", form={"csrf": csrf}
        )
        assert forged.status == 403
        assert "approve" in await forged.text()
        await context.close()

        # An approver's session, but a POST without the CSRF token: refused, nothing recorded.
        context = await browser.new_context()
        page = await context.new_page()
        link = await _link(served, LEAD, request_id)
        await page.goto(link)
        assert await page.locator("#approve").count() == 1
        missing = await page.request.post(f"{served.base}/review/requests/{request_id}/approve", form={})
        assert missing.status == 403 and texts.REVIEW_CSRF in await missing.text()
        wrong = await page.request.post(
            f"{served.base}/review/requests/{request_id}/approve", form={"csrf": "not-the-token"}
        )
        assert wrong.status == 403

        # The same link a second time: refused.
        again = await (await browser.new_context()).new_page()
        answer = await again.goto(link)
        assert answer is not None and answer.status == 403
        assert texts.REVIEW_LINK_USED in await again.content()

        # An expired link: refused.
        stale = await _link(served, LEAD, request_id, minutes="0.0001")
        await asyncio.sleep(1.1)  # let it pass its expiry (a wait, not a measurement)
        answer = await again.goto(stale)
        assert answer is not None and answer.status == 403
        assert texts.REVIEW_LINK_EXPIRED in await again.content()
        # A tampered link, and no session at all.
        answer = await again.goto(link[:-3] + "abc")
        assert answer is not None and answer.status == 403
        answer = await again.goto(f"{served.base}/review/requests/{request_id}")
        assert answer is not None and answer.status == 401

        _code, _, body = await served.call("GET", f"/api/v1/requests/{request_id}", reader)
        assert body["status"] == "in_review" and body["review"] is None  # none of the above decided
        await context.close()
