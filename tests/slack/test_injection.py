"""Mentions and links that users or models write reach Slack as plain text; the core's own mentions work."""

from __future__ import annotations

from adapters.slack.blocks import SECTION_TEXT_MAX, fallback_text, message_blocks
from adapters.slack.escaping import inert_mrkdwn
from bot.domain import ReplyTarget, RequestStatus
from bot.messages import Field, Message
from tests.fakes.slack import TEAM
from tests.slack.conftest import CHANNEL, LEAD, REQUESTER, STRANGER, Bed

INJECTED = "<!channel> <!subteam^S0LEADS> <!here> <https://evil.example/login|the clip here>"
LIVE = ("<!channel>", "<!subteam^", "<!here>", "<https://evil.example")


async def test_an_ask_full_of_broadcasts_and_a_disguised_link_is_echoed_inert(bed: Bed) -> None:
    status, _ = await bed.video(f"a 4s clip of a red kite {INJECTED}", user=REQUESTER, channel=CHANNEL)
    assert status == 200
    parent = bed.parent()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [RequestStatus.IN_REVIEW])
    posted = [parent, *bed.replies(parent)]
    assert len(posted) >= 3  # the ask, the brief (the model's text echoes the ask), status, clip
    for message in posted:
        for shown in (message.text, message.all_text()):
            assert not any(live in shown for live in LIVE), shown
    assert "&lt;!channel&gt; &lt;!subteam^S0LEADS&gt;" in parent.all_text()
    assert "&lt;https://evil.example/login|the clip here&gt;" in parent.all_text()
    # The core names the requester on purpose: that mention still works.
    assert parent.headline.startswith(f"🎬 video request from <@{REQUESTER}>")


async def test_only_the_users_a_message_declares_are_mentioned(bed: Bed) -> None:
    target = ReplyTarget("slack", TEAM, CHANNEL, None)
    message = Message(
        text=f"⛔ rejected by <@{LEAD}>",
        body=f"Reason: ask <@{STRANGER}> and <!here>, see <https://evil.example|the fixed clip>",
        fields=(Field("Requested by", f"<@{REQUESTER}>"),),
        mentions=(LEAD, REQUESTER),
    )
    await bed.platform.port.post(target, message)
    [posted] = bed.fake.parents(CHANNEL)
    shown = posted.all_text()
    assert f"<@{LEAD}>" in posted.text and f"<@{LEAD}>" in shown and f"<@{REQUESTER}>" in shown
    assert f"&lt;@{STRANGER}&gt;" in shown and f"<@{STRANGER}>" not in shown + posted.text
    assert "&lt;!here&gt;" in shown and "&lt;https://evil.example|the fixed clip&gt;" in shown


def test_inert_mrkdwn_escapes_control_characters_once() -> None:
    assert inert_mrkdwn("a < b & c > d", None) == "a &lt; b &amp; c &gt; d"
    # Slack already escaped what a person typed: kept as it is, not escaped twice.
    assert inert_mrkdwn("typed &lt;@U0LEAD&gt; &amp; more", None) == "typed &lt;@U0LEAD&gt; &amp; more"
    assert inert_mrkdwn("<@U0LEAD|lead> <#C0VIDEO>", None) == "&lt;@U0LEAD|lead&gt; &lt;#C0VIDEO&gt;"
    # Not declared: plain user mentions stay; declared: only those.
    assert inert_mrkdwn("<@U0LEAD> <@U0OTHER>", None) == "<@U0LEAD> <@U0OTHER>"
    assert inert_mrkdwn("<@U0LEAD> <@U0OTHER>", ("U0LEAD",)) == "<@U0LEAD> &lt;@U0OTHER&gt;"
    assert inert_mrkdwn("<@U0LEAD>", ()) == "&lt;@U0LEAD&gt;"


def test_long_escaped_bodies_split_between_entities_and_every_text_is_inert() -> None:
    message = Message(text="<!channel>", body="<" * 4000, context="<!here>", mentions=())
    blocks = message_blocks(message)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"][1:]
    assert all(len(text) <= SECTION_TEXT_MAX and text.endswith("&lt;") for text in sections)
    assert "".join(sections).count("&lt;") == 4000
    assert blocks[0]["text"]["text"] == "*&lt;!channel&gt;*"
    assert blocks[-1]["elements"][0]["text"] == "&lt;!here&gt;"
    assert "<!" not in fallback_text(message)
