"""Message references: the opaque ``ref`` strings the core stores, ``"{channel_id}:{message_id}"``."""

from __future__ import annotations


def message_ref(channel_id: int | str, message_id: int | str) -> str:
    return f"{channel_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int]:
    """``"123:456"`` → ``(123, 456)``; raise ``ValueError`` for anything else."""
    channel, sep, message = ref.partition(":")
    if not sep or not channel.isdigit() or not message.isdigit():
        raise ValueError(f"not a Discord message ref: {ref!r}")
    return int(channel), int(message)
