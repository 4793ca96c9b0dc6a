"""Payloads of multi-shot cuts and of variants side by side (re-exported by :mod:`bot.event_payloads`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.event_base import Payload, RenderFacts
from bot.event_kinds import EventKind as K


@dataclass(frozen=True, kw_only=True)
class ShotReady(RenderFacts):
    """A shot of a multi-shot cut is downloaded and kept for stitching (it is not reviewed alone)."""

    KIND = K.SHOT_READY
    cut_id: str
    shot: int
    cost_actual: float | None


@dataclass(frozen=True, kw_only=True)
class CutStitching(RenderFacts):
    """Every shot of a cut is ready; its own render stitches them."""

    KIND = K.CUT_STITCHING
    cut_id: str
    version: int
    shot_render_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ShotRerender(Payload):
    """One shot of a cut is rendered again; the next cut version reuses the other shots."""

    KIND = K.SHOT_RERENDER
    cut_id: str
    version: int
    shot: int
    render_ids: list[str]
    cost_estimate: float
    edited: bool = False


@dataclass(frozen=True, kw_only=True)
class VariantPicked(Payload):
    """Of several takes, this one goes to review."""

    KIND = K.VARIANT_PICKED
    render_id: str
    variant: int
    archived: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class VariantArchived(RenderFacts):
    KIND = K.VARIANT_ARCHIVED
    picked: str


@dataclass(frozen=True, kw_only=True)
class FinalQueued(Payload):
    """Make final: a draft's shots rendered again at the final tier (same brief, same seeds)."""

    KIND = K.FINAL_QUEUED
    cut_id: str
    version: int
    provider: str
    model: str
    cost_estimate: float
    draft_cost: float
    render_ids: list[str]
