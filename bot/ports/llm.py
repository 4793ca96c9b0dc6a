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
    explainer: bool = False  # write a narration script per shot, key terms and a learning goal
    audience: str | None = None  # who the explainer is for ("age 14")


@runtime_checkable
class PromptRefiner(Protocol):
    name: str

    async def refine(self, data: RefineInput) -> Brief | Clarification: ...


@runtime_checkable
class ScriptTranslator(Protocol):
    """Translates an explainer's script line by line, for captions in another language."""

    async def translate(self, lines: tuple[str, ...], *, source: str, target: str) -> tuple[str, ...]:
        """The same number of lines, in ``target`` (a BCP 47 tag)."""
        ...


@dataclass(frozen=True)
class ModerationResult:
    allowed: bool
    category: str = ""
    reason: str = ""
    source: str = ""


@runtime_checkable
class Moderator(Protocol):
    async def check(self, text: str) -> ModerationResult: ...
