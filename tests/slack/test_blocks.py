"""Block Kit rendering: the public contract of action ids and values, and Slack's size limits."""

from __future__ import annotations

from adapters.slack.blocks import FormOrigin, action_from_id, form_view, message_blocks, progress_bar
from bot.domain import ReplyTarget
from bot.messages import Action, Button, Field, Form, FormField, Message, Style


def test_every_action_has_a_clipdesk_action_id_that_maps_back() -> None:
    for action in Action:
        message = Message("m", buttons=(Button("B", action, "req_1", render_id="rnd_2"),))
        (button,) = message_blocks(message)[-1]["elements"]
        assert button["action_id"] == f"clipdesk_{action.value}"
        assert button["value"] == "req_1:rnd_2"
        assert action_from_id(button["action_id"]) == action
    assert action_from_id("someone_elses_button") is None
    assert action_from_id("clipdesk_unknown") is None


def test_button_styles_follow_the_core() -> None:
    message = Message(
        "m",
        buttons=(
            Button("Approve", Action.APPROVE, "r", Style.PRIMARY),
            Button("Regenerate", Action.REGENERATE, "r"),
            Button("Reject", Action.REJECT, "r", Style.DANGER),
        ),
    )
    elements = message_blocks(message)[-1]["elements"]
    assert [e.get("style") for e in elements] == ["primary", None, "danger"]


def test_long_messages_stay_inside_slacks_limits() -> None:
    message = Message(
        "t" * 5000,
        body="b" * 7000,
        fields=tuple(Field(f"f{i}", "v" * 3000) for i in range(12)),
        context="c" * 4000,
    )
    blocks = message_blocks(message)
    assert len(blocks) <= 50
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections if "text" in b)
    assert all(len(b["fields"]) <= 10 for b in sections if "fields" in b)
    assert sum(len(b.get("fields", [])) for b in sections) == 12
    assert "".join(b["text"]["text"] for b in sections[1:4] if "text" in b) == "b" * 7000


def test_progress_is_a_text_bar() -> None:
    assert progress_bar(0) == f"`{'░' * 20}` 0%"
    assert progress_bar(55) == f"`{'▓' * 11}{'░' * 9}` 55%"
    assert progress_bar(140).endswith("100%")
    blocks = message_blocks(Message("🎞️ Rendering 40%", progress=40))
    assert "▓▓▓▓▓▓▓▓░" in blocks[1]["text"]["text"]


def test_a_modal_carries_its_request_render_and_thread() -> None:
    target = ReplyTarget("slack", "T1", "C1", "1700000000.000100")
    form = Form(
        "A much longer title than Slack allows",
        Action.EDIT,
        "req_1",
        (FormField("prompt", "Prompt", "x" * 4000, max_length=3000),),
        render_id="rnd_2",
    )
    view = form_view(form, target)

    assert view["type"] == "modal" and view["callback_id"] == "clipdesk_edit"
    assert len(view["title"]["text"]) <= 24
    (block,) = view["blocks"]
    assert block["block_id"] == "field_prompt" and block["optional"] is False
    assert block["element"]["action_id"] == "prompt" and len(block["element"]["initial_value"]) == 3000
    origin = FormOrigin.load(view["private_metadata"], "slack")
    assert origin == FormOrigin(Action.EDIT, "req_1", "rnd_2", target)
    assert FormOrigin.load("not json", "slack") is None
