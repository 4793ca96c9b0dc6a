"""The prompt refiner and moderator ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.domain import Brief


@dataclass(frozen=True)
class Clarification:
    """The refiner needs one answer before it can write a brief."""

    question: str


@dataclass(frozen=True)
class RefineInput:
    request_id: str
    version: int
    text: str
    seconds: int
    aspect: str
    previous: Brief | None = None
    instruction: str | None = None
    max_prompt_chars: int = 4000
    # A multi-shot cut: the length of each shot (lengths the model makes, summing to ``seconds``).
    shot_seconds: tuple[int, ...] = ()


@runtime_checkable
class PromptRefiner(Protocol):
    name: str

    async def refine(self, data: RefineInput) -> Brief | Clarification: ...


@dataclass(frozen=True)
class ModerationResult:
    allowed: bool
    category: str = ""
    reason: str = ""
    source: str = ""


@runtime_checkable
class Moderator(Protocol):
    async def check(self, text: str) -> ModerationResult: ...
