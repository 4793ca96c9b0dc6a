"""The pure pieces of the Discord adapter: custom ids, rendering, modals, shrink planning."""

from __future__ import annotations

import pytest

from adapters.discord.chat import thread_name
from adapters.discord.components import (
    BUTTON_TEMPLATE,
    FORM_TEMPLATE,
    ClipRef,
    buttons_from_components,
    custom_id,
    discord_markdown,
    form_values,
    parse_custom_id,
    render,
)
from adapters.discord.events import video_options
from adapters.media.shrink import ClipInfo, human_size, plan_fit
from bot.domain import new_id
from bot.messages import Action, Button, Field, Message, Style
from bot.options import parse_ask


def test_custom_ids_carry_request_render_and_action_within_100_characters() -> None:
    for action in Action:
        ref = ClipRef(action, new_id("req"), new_id("rnd"))
        value = custom_id("clipform", ref)
        assert len(value) <= 100
        assert parse_custom_id(value, FORM_TEMPLATE) == ref
        assert parse_custom_id(custom_id("clip", ref), BUTTON_TEMPLATE) == ref
    without_render = custom_id("clip", ClipRef(Action.RENDER, "req_1"))
    assert without_render == "clip:req_1:-:render" and parse_custom_id(without_render) == ClipRef(
        Action.RENDER, "req_1"
    )


def test_ids_that_would_not_fit_or_parse_are_refused() -> None:
    with pytest.raises(ValueError):
        custom_id("clip", ClipRef(Action.APPROVE, "r" * 41))
    assert parse_custom_id("clip:req_1:-:explode") is None
    assert parse_custom_id("other:req_1:-:approve") is None


async def test_a_message_renders_as_content_embed_and_buttons() -> None:
    message = Message(
        text="📝 Brief v1",
        body="*Your ask:* a bottle",
        fields=(Field("Duration", "8s"), Field("Style", "x" * 2000)),
        buttons=(Button("Render", Action.RENDER, "req_1", Style.PRIMARY),),
        context="Press Render to start.",
    )
    rendered = render(message)
    assert rendered.content == "📝 Brief v1"
    assert rendered.embed is not None and rendered.embed.description == "**Your ask:** a bottle"
    assert rendered.embed.fields[0].value == "8s"
    assert len(rendered.embed.fields[1].value or "") == 1024  # clipped to Discord's field limit
    assert rendered.embed.footer.text == "Press Render to start."
    assert rendered.view is not None
    [item] = rendered.view.children
    assert getattr(item, "custom_id", "") == "clip:req_1:-:render"

    greyed = render(Message(text="✅ done"), buttons=message.buttons, disabled=True)
    assert greyed.view is not None
    assert [c["disabled"] for row in greyed.view.to_components() for c in row["components"]] == [True]
    assert greyed.embed is None


async def test_a_lone_context_line_becomes_subtext() -> None:
    rendered = render(
        Message(text="🎬 video request from <@1>: a bottle", context="clipdesk · details in the thread")
    )
    assert rendered.content.endswith("\n-# clipdesk · details in the thread") and rendered.embed is None


async def test_buttons_read_back_from_a_posted_message_match_the_ones_sent() -> None:
    import discord

    buttons = (
        Button("Approve", Action.APPROVE, "req_1", Style.PRIMARY, "rnd_1"),
        Button("Reject", Action.REJECT, "req_1", Style.DANGER, "rnd_1"),
    )
    view = render(Message(text="clip", buttons=buttons)).view
    assert view is not None
    rows = [discord.ActionRow(row) for row in view.to_components()]  # type: ignore[arg-type]
    assert buttons_from_components(rows) == buttons


def test_slack_bold_becomes_discord_bold_and_the_rest_is_left_alone() -> None:
    assert discord_markdown("*Prompt:* calm, **already bold**, 2*3*4, _italic_") == (
        "**Prompt:** calm, **already bold**, 2*3*4, _italic_"
    )


def test_modal_values_are_read_from_labels_and_action_rows() -> None:
    submitted = [
        {"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": "prompt", "value": "new"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "reason", "value": "too dark"}]},
    ]
    assert form_values(submitted) == {"prompt": "new", "reason": "too dark"}


def test_typed_options_reach_the_core_typed_and_win_over_the_prompts_words() -> None:
    options = video_options(seconds=12, aspect="9:16", provider="animatic", variants=2)
    ask = parse_ask("an explainer of flow, 8 seconds, square", given=options)
    assert ask.text == "an explainer of flow, 8 seconds, square"
    assert (ask.options.seconds, ask.options.aspect, ask.options.provider, ask.options.variants) == (
        12,
        "9:16",
        "animatic",
        2,
    )


def test_thread_names_are_the_ask_without_mentions_and_fit_discord() -> None:
    assert thread_name("🎬 video request from <@123>: a bottle demo") == "🎬 a bottle demo"
    assert len(thread_name("🎬 video request from <@1>: " + "word " * 60)) == 100


def test_shrinking_picks_the_largest_watchable_size_and_gives_up_below_240p() -> None:
    hd = ClipInfo(seconds=12, width=1920, height=1080, fps=30, has_audio=True)
    assert plan_fit(hd, 100 * 1024 * 1024) is not None and plan_fit(hd, 100 * 1024 * 1024).height == 1080  # type: ignore[union-attr]
    ten = plan_fit(hd, 10 * 1024 * 1024)
    assert ten is not None and (ten.width, ten.height) == (1920, 1080) and ten.audio_kbps == 64
    small = plan_fit(hd, 3 * 1024 * 1024)
    assert small is not None and small.height < 1080 and small.width * 9 == small.height * 16
    assert plan_fit(hd, 100 * 1024) is None
    vertical = plan_fit(ClipInfo(8, 720, 1280, 24, False), 1024 * 1024)
    assert vertical is not None and vertical.width < vertical.height and vertical.fps == 24
    sixty = plan_fit(ClipInfo(4, 1280, 720, 60, False), 10 * 1024 * 1024)
    assert sixty is not None and sixty.fps == 30


def test_sizes_read_like_people_write_them() -> None:
    assert human_size(10 * 1024 * 1024) == "10 MB"
    assert human_size(1536 * 1024) == "1.5 MB"
    assert human_size(80 * 1024) == "80 KB"
