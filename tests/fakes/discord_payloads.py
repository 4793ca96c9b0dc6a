"""The world of the fake Discord and its wire shapes (after discord.py 2.7's ``discord/types``).

Guilds with roles, channels and members, and the messages in them, each with the JSON
Discord sends for it. ``tests.fakes.discord`` serves them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(at: float | None = None) -> str:
    return datetime.fromtimestamp(at if at is not None else time.time(), UTC).isoformat()


@dataclass
class Role:
    id: int
    name: str
    position: int = 1
    permissions: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    roles: list[int] = field(default_factory=list)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.username.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member(self, permissions: int = 0) -> dict[str, Any]:
        return {
            "user": self.payload(),
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "pending": False,
            "premium_since": None,
            "avatar": None,
            "communication_disabled_until": None,
            "permissions": str(permissions),
        }


@dataclass
class Channel:
    id: int
    guild_id: int
    name: str
    type: int = 0  # 0 text, 11 public thread, 15 forum
    parent_id: int | None = None
    owner_id: int | None = None
    archived: bool = False

    def payload(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "last_message_id": None,
            "nsfw": False,
        }
        if self.type == 11:
            base.update(
                owner_id=str(self.owner_id),
                member_count=1,
                message_count=0,
                total_message_sent=0,
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": 10080,
                    "archive_timestamp": iso(),
                    "locked": False,
                    "create_timestamp": iso(),
                },
            )
        else:
            base.update(
                position=0,
                permission_overwrites=[],
                topic=None,
                default_auto_archive_duration=1440,
            )
        return base


@dataclass
class Guild:
    id: int
    name: str
    roles: dict[str, Role]
    channels: dict[int, Channel]
    members: dict[int, User]
    attachment_size_limit: int

    @property
    def everyone(self) -> Role:
        return self.roles["@everyone"]

    def payload(self, bot: User) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(next(iter(self.members))),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": False,
            "joined_at": iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [bot.member()],
            "channels": [c.payload() for c in self.channels.values() if c.type != 11],
            "threads": [c.payload() for c in self.channels.values() if c.type == 11],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class StoredMessage:
    payload: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)  # attachment id → bytes
    edits: list[dict[str, Any]] = field(default_factory=list)  # the request bodies of every edit
    via: str = "bot"  # "bot" (bot token) or "interaction"

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.payload.get("attachments") or [])

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags") or 0)

    def buttons(self) -> list[dict[str, Any]]:
        return [c for row in self.payload.get("components") or [] for c in row.get("components", [])]

    def button(self, label: str) -> dict[str, Any]:
        for button in self.buttons():
            if button.get("label") == label:
                return button
        raise KeyError(
            f"no button {label!r} on message {self.id}: {[b.get('label') for b in self.buttons()]}"
        )

    def text(self) -> str:
        """Content, embed description, fields and footer as one string, for assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(embed.get("description") or "")
            parts.extend(f"{f['name']}: {f['value']}" for f in embed.get("fields") or [])
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(p for p in parts if p)


def message_payload(
    message_id: int,
    channel: Channel,
    author: dict[str, Any],
    content: str,
    embeds: list[dict[str, Any]],
    components: list[dict[str, Any]],
    attachments: list[dict[str, Any]],
    nonce: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel.id),
        "guild_id": str(channel.guild_id),
        "author": author,
        "content": content,
        "timestamp": iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": embeds,
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": components,
    }
    if nonce is not None:
        payload["nonce"] = nonce
    return payload


def fill_modal(component: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A modal component as Discord sends it back on submit: text inputs carry their value."""
    if component.get("type") == 4:
        custom_id = component["custom_id"]
        return {
            "type": 4,
            "id": component.get("id", 1),
            "custom_id": custom_id,
            "value": values.get(custom_id, component.get("value") or ""),
        }
    filled = {"type": component["type"], "id": component.get("id", 1)}
    if "component" in component:
        filled["component"] = fill_modal(component["component"], values)
    if "components" in component:
        filled["components"] = [fill_modal(c, values) for c in component["components"]]
    return filled
