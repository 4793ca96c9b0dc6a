"""The REST API's bodies: strict (wrong types refused, not coerced) and closed (unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.options import MAX_SHOTS, MAX_VARIANTS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateRequest(_Strict):
    """A new ask: the prompt and the same options as ``/video``."""

    prompt: str = Field(min_length=1, max_length=4000, description="What the video should show.")
    seconds: int | None = Field(default=None, ge=1, le=600, description="Clip length in seconds.")
    aspect: Literal["16:9", "9:16", "1:1"] | None = None
    provider: str | None = Field(default=None, min_length=1, max_length=40)
    model: str | None = Field(default=None, min_length=1, max_length=80)
    quality: Literal["standard", "high"] = "standard"
    variants: int = Field(default=1, ge=1, le=MAX_VARIANTS)
    shots: int | None = Field(default=None, ge=1, le=MAX_SHOTS, description="A cut of this many shots.")
    draft: bool | None = Field(
        default=None, description="Render at the draft tier first (None: the workspace's default)."
    )
    audience: str | None = Field(
        default=None, min_length=1, max_length=200, description='An explainer\'s viewers ("age 14").'
    )
    captions: str | None = Field(
        default=None,
        min_length=2,
        max_length=35,
        description='Caption files ("on"), "burn" them in, "off", or a language tag to translate to.',
    )
    channel: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A chat channel of the token's workspace to open the request's thread in.",
    )


class RejectBody(_Strict):
    reason: str = Field(min_length=1, max_length=2000)
    render_id: str | None = Field(default=None, max_length=40)


class ApproveBody(_Strict):
    render_id: str | None = Field(default=None, max_length=40)


class RegenerateBody(_Strict):
    instruction: str | None = Field(default=None, max_length=2000)


class Links(BaseModel):
    self: str
    render: str
    approve: str
    reject: str
    regenerate: str
    cancel: str


class Accepted(BaseModel):
    id: str
    status: str
    links: Links


class ShotOut(BaseModel):
    index: int
    seconds: float
    description: str
    camera: str


class BriefOut(BaseModel):
    id: str
    version: int
    prompt: str
    subject: str
    setting: str
    style: str
    lighting: str
    camera: str
    seconds: int
    aspect: str
    shots: list[ShotOut]
    refiner: str
    cost_estimate: float | None
    created_at: datetime


class RenderOut(BaseModel):
    id: str
    status: str
    brief_version: int
    variant: int
    provider: str
    model: str
    seconds: int
    size: str
    progress: int
    cost_estimate: float
    cost_actual: float | None
    clip_url: str | None
    qc_findings: list[str]
    failure_reason: str | None


class ReviewOut(BaseModel):
    decision: str
    render_id: str
    reviewer: str
    reviewer_name: str
    reason: str
    at: datetime


class AuditOut(BaseModel):
    kind: str
    actor: str
    at: datetime
    from_status: str
    to_status: str
    render_id: str | None
    data: dict[str, Any]


class Cost(BaseModel):
    estimate: float
    actual: float


class RequestOut(BaseModel):
    id: str
    status: str
    prompt: str
    options: dict[str, Any]
    requester: str
    requester_name: str
    channel: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    brief: BriefOut | None
    brief_versions: list[int]
    renders: list[RenderOut]
    cost: Cost
    review: ReviewOut | None
    audit: list[AuditOut]
    links: Links


class RequestSummary(BaseModel):
    id: str
    status: str
    prompt: str
    requester: str
    created_at: datetime
    updated_at: datetime
    links: Links


class RequestPage(BaseModel):
    items: list[RequestSummary]
    next_cursor: str | None
