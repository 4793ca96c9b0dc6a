"""``bot.ports.VariantSheets``: a contact sheet PNG of several takes, drawn off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from adapters.media.contact_sheet import contact_sheet


class ContactSheets:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def sheet(self, name: str, clips: Sequence[Path]) -> Path:
        dest = self.folder / f"{name}.png"
        done = await asyncio.to_thread(contact_sheet, list(clips), dest)
        return done.path
