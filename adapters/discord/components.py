"""Core messages as Discord messages: content, one embed and persistent buttons; forms as modals.

Buttons carry their state in the custom id, ``clip:{request_id}:{render_id or -}:{action}``,
and are :class:`discord.ui.DynamicItem` s: the client registers the template once at
start-up, so a click on a message posted before a restart still reaches the core.
Modals carry the same state as ``clipform:…`` and are answered without any state in
memory either (see ``client.ClipdeskClient.on_interaction``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import discord
from discord import ui

from adapters.discord.escaping import allowed_mentions, inert_markdown
from bot.messages import Action, Button, Form, Message, Option, Picker, Style

CONTENT_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
MAX_FIELDS = 25
CUSTOM_ID_LIMIT = 100
MODAL_TITLE_LIMIT = 45
LABEL_LIMIT = 45
TEXT_INPUT_LIMIT = 4000
BUTTON_LABEL_LIMIT = 80
BUTTON_PREFIX = "clip"
FORM_PREFIX = "clipform"

_ID = r"[A-Za-z0-9_\-]{1,40}"
_ACTIONS = "|".join(sorted(action.value for action in Action))
BUTTON_TEMPLATE = re.compile(rf"{BUTTON_PREFIX}:(?P<request>{_ID}):(?P<render>{_ID}):(?P<action>{_ACTIONS})")
FORM_TEMPLATE = re.compile(rf"{FORM_PREFIX}:(?P<request>{_ID}):(?P<render>{_ID}):(?P<action>{_ACTIONS})")
PICKER_PREFIX = "clippick"
# A select menu (a shot picker): the chosen option's value is the render it names.
PICKER_TEMPLATE = re.compile(rf"{PICKER_PREFIX}:(?P<request>{_ID}):(?P<action>{_ACTIONS})")
SELECT_OPTIONS_LIMIT = 25

_STYLES = {
    Style.PRIMARY: discord.ButtonStyle.primary,
    Style.DANGER: discord.ButtonStyle.danger,
    Style.DEFAULT: discord.ButtonStyle.secondary,
}
_CORE_STYLES = {value: key for key, value in _STYLES.items()}
GREEN = discord.Colour.green()
RED = discord.Colour.red()
AMBER = discord.Colour.orange()
BRAND = discord.Colour.blurple()


@dataclass(frozen=True)
class ClipRef:
    """What a button or a form is about: the action, the request and (optionally) the render."""

    action: Action
    request_id: str
    render_id: str | None = None


def custom_id(prefix: str, ref: ClipRef) -> str:
    """``clip:{request}:{render or -}:{action}``; raise ``ValueError`` past Discord's 100 characters."""
    value = f"{prefix}:{ref.request_id}:{ref.render_id or '-'}:{ref.action.value}"
    template = BUTTON_TEMPLATE if prefix == BUTTON_PREFIX else FORM_TEMPLATE
    if len(value) > CUSTOM_ID_LIMIT or not template.fullmatch(value):
        raise ValueError(f"cannot carry {ref} in a Discord custom id")
    return value


def parse_custom_id(value: str, template: re.Pattern[str] = BUTTON_TEMPLATE) -> ClipRef | None:
    match = template.fullmatch(value)
    return _ref(match) if match else None


def _ref(match: re.Match[str]) -> ClipRef:
    render = match["render"]
    return ClipRef(Action(match["action"]), match["request"], None if render == "-" else render)


@runtime_checkable
class ClickHandler(Protocol):
    """What the client offers persistent buttons: somewhere to send a click."""

    async def clip_clicked(self, interaction: discord.Interaction[Any], ref: ClipRef) -> None: ...


class ClipButton(ui.DynamicItem[ui.Button[ui.View]], template=BUTTON_TEMPLATE):
    """A core :class:`~bot.messages.Button` on Discord; rebuilt from its custom id on every click."""

    def __init__(
        self,
        ref: ClipRef,
        *,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            ui.Button(
                label=label[:BUTTON_LABEL_LIMIT] or ref.action.value,
                style=style,
                custom_id=custom_id(BUTTON_PREFIX, ref),
                disabled=disabled,
            )
        )
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> ClipButton:
        label = getattr(item, "label", None) or ""
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(_ref(match), label=label, style=style)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, ClickHandler):
            await client.clip_clicked(interaction, self.ref)


class ClipPicker(ui.DynamicItem[ui.Select[ui.View]], template=PICKER_TEMPLATE):
    """A core :class:`~bot.messages.Picker` as a select menu; a choice reaches the core like a click."""

    def __init__(self, picker: Picker) -> None:
        super().__init__(
            ui.Select(
                custom_id=f"{PICKER_PREFIX}:{picker.request_id}:{picker.action.value}",
                placeholder=clip(picker.placeholder, 150),
                options=[
                    discord.SelectOption(label=clip(o.label, 100), value=o.render_id)
                    for o in picker.options[:SELECT_OPTIONS_LIMIT]
                ],
            )
        )
        self.picker = picker

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> ClipPicker:
        options = tuple(Option(o.label, o.value) for o in getattr(item, "options", []))
        picker = Picker(
            getattr(item, "placeholder", "") or "", Action(match["action"]), match["request"], options
        )
        return cls(picker)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        chosen = [str(v) for v in data.get("values") or []] or list(self.item.values)
        client = interaction.client
        if chosen and isinstance(client, ClickHandler):
            await client.clip_clicked(
                interaction, ClipRef(self.picker.action, self.picker.request_id, chosen[0])
            )


# --------------------------------------------------------------------------- messages


@dataclass
class Rendered:
    """A message as discord.py sends it; ``mentions`` is who it may notify (``None``: the client default)."""

    content: str
    embed: discord.Embed | None
    view: ui.View | None
    mentions: discord.AllowedMentions | None = None

    def send_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"content": self.content}
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        if self.mentions is not None:
            kwargs["allowed_mentions"] = self.mentions
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Everything replaced: no embed or view here means none on the edited message."""
        kwargs: dict[str, Any] = {"content": self.content, "embed": self.embed, "view": self.view}
        if self.mentions is not None:
            kwargs["allowed_mentions"] = self.mentions
        return kwargs


def render(
    message: Message, *, buttons: tuple[Button, ...] | None = None, disabled: bool = False, note: str = ""
) -> Rendered:
    """Render ``message``; ``buttons`` overrides its buttons (e.g. the previous ones, ``disabled``).

    Every text of the message is made inert (:mod:`adapters.discord.escaping`); ``note`` is the
    adapter's own markdown (a clip link), shown first in the embed as written.
    """
    shown = message.buttons if buttons is None else buttons
    content = clip(_markdown(message, message.text), CONTENT_LIMIT)
    embed = _embed(message, note)
    if embed is None and message.context:
        # A lone context line reads better as Discord's subtext than as an almost empty embed.
        content = clip(f"{content}\n-# {_markdown(message, message.context)}", CONTENT_LIMIT)
    view = button_view(shown, disabled=disabled) if shown else None
    if message.pickers and not disabled:
        view = view or ui.View(timeout=None)
        for row, picker in enumerate(message.pickers[:3], start=2):  # buttons fill rows 0-1
            item = ClipPicker(picker)
            item.row = row
            view.add_item(item)
    return Rendered(content, embed, view, allowed_mentions(message.mentions))


def _markdown(message: Message, text: str) -> str:
    return discord_markdown(inert_markdown(text, message.mentions))


def buttons_from_components(components: list[Any]) -> tuple[Button, ...]:
    """The core buttons a posted message shows, read back from its components."""
    found: list[Button] = []
    for row in components:
        for component in getattr(row, "children", [row]):
            if not isinstance(component, discord.Button) or not component.custom_id:
                continue
            ref = parse_custom_id(component.custom_id)
            if ref is None:
                continue
            style = _CORE_STYLES.get(component.style, Style.DEFAULT)
            label = component.label or ref.action.value
            found.append(Button(label, ref.action, ref.request_id, style, ref.render_id))
    return tuple(found)


def button_view(buttons: tuple[Button, ...], *, disabled: bool = False) -> ui.View:
    view = ui.View(timeout=None)
    for button in buttons[:25]:
        ref = ClipRef(button.action, button.request_id, button.render_id)
        view.add_item(ClipButton(ref, label=button.label, style=_STYLES[button.style], disabled=disabled))
    return view


def _embed(message: Message, note: str = "") -> discord.Embed | None:
    if not (message.body or message.fields or message.progress is not None or note):
        return None
    description = _markdown(message, message.body)
    if note:
        description = f"{note}\n{description}" if description else note
    if message.progress is not None:
        description = f"{progress_bar(message.progress)}\n{description}".strip()
    embed = discord.Embed(
        description=clip(description, EMBED_DESCRIPTION_LIMIT) or None, colour=colour_for(message.text)
    )
    budget = EMBED_TOTAL_LIMIT - len(embed.description or "") - len(message.context[:FOOTER_LIMIT])
    for field in message.fields[:MAX_FIELDS]:
        name = clip(_markdown(message, field.label), FIELD_NAME_LIMIT) or "\u200b"
        value = clip(_markdown(message, field.value), FIELD_VALUE_LIMIT) or "—"
        budget -= len(name) + len(value)
        if budget < 0:
            break
        embed.add_field(name=name, value=value, inline=len(value) <= 40)
    if message.context:
        embed.set_footer(text=clip(message.context, FOOTER_LIMIT))
    return embed


def progress_bar(percent: int, width: int = 12) -> str:
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return "▰" * filled + "▱" * (width - filled) + f" {percent}%"


def colour_for(text: str) -> discord.Colour:
    if text.startswith("✅"):
        return GREEN
    if text.startswith(("❌", "⛔", "🚫")):
        return RED
    if text.startswith(("⚠", "↩", "❓")):
        return AMBER
    return BRAND


_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?![\s*])([^*\n]+?)(?<![\s*])\*(?![*\w])")


def discord_markdown(text: str) -> str:
    """The core writes Slack-style ``*bold*``; Discord reads that as italics, so double it."""
    return _SLACK_BOLD.sub(r"**\1**", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- forms


def form_modal(form: Form) -> ui.Modal:
    """A modal for ``form``; its submission is read back with :func:`form_values`."""
    ref = ClipRef(form.action, form.request_id, form.render_id)
    modal = ui.Modal(title=clip(form.title, MODAL_TITLE_LIMIT), custom_id=custom_id(FORM_PREFIX, ref))
    for field in form.fields[:5]:
        limit = max(1, min(field.max_length, TEXT_INPUT_LIMIT))
        text_input: ui.TextInput[ui.Modal] = ui.TextInput(
            custom_id=field.name,
            style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
            default=field.value[:limit] or None,
            required=field.required,
            max_length=limit,
        )
        modal.add_item(ui.Label(text=clip(field.label, LABEL_LIMIT), component=text_input))
    return modal


def form_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """The text inputs of a modal submission (action rows or labels), by custom id."""
    values: dict[str, str] = {}
    for component in components:
        if component.get("type") == 4 and "custom_id" in component:
            values[str(component["custom_id"])] = str(component.get("value") or "")
        nested = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            nested.append(component["component"])
        values.update(form_values(nested))
    return values
