"""The fal.ai video models clipdesk offers, as fal names their endpoints (Nov 2026).

Each model has a text-to-video endpoint and, where fal hosts one, an
image-to-video endpoint used when a render starts from a given first frame
(multi-shot continuity). Argument names differ per family; :class:`FalModel`
says how to pass length, shape and the optional frames, and :func:`arguments`
builds the JSON body.

Prices are USD per second of output from fal's model pages (Nov 2026); they are
configurable defaults for estimates (``CLIPDESK_PRICES=fal:kling-2.5-turbo=0.07``),
not the bill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.ports import Continuity, Tier

LANDSCAPE = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "720x720"}
HD = {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1080x1080"}
WAN = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "960x960"}


@dataclass(frozen=True)
class FalModel:
    """One video model on fal and how its arguments are spelled.

    Attributes:
        duration: ``"string"`` (``"5"``), ``"integer"`` (``5``) or ``"frames"`` (``num_frames`` at ``fps``).
        resolution: the ``resolution`` argument to send, if the model takes one.
        last_frame_arg: the argument naming the closing frame (image-to-video only).
    """

    name: str
    text_endpoint: str
    image_endpoint: str | None
    durations: tuple[int, ...]
    sizes: dict[str, str]
    price: float
    duration: str = "string"
    fps: int = 24
    resolution: str | None = None
    aspect_arg: bool = True
    seed_arg: bool = False
    negative_arg: bool = False
    last_frame_arg: str | None = None
    audio: bool = False
    tier: Tier = Tier.FINAL
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def continuity(self) -> frozenset[Continuity]:
        kinds = {Continuity.FIRST_FRAME} if self.image_endpoint else set()
        if self.last_frame_arg:
            kinds.add(Continuity.LAST_FRAME)
        return frozenset(kinds)


MODELS: dict[str, FalModel] = {
    m.name: m
    for m in (
        FalModel(
            "kling-2.5-turbo",
            "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
            "fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
            (5, 10),
            dict(HD),
            0.07,
            negative_arg=True,
        ),
        FalModel(
            "kling-2.1-standard",
            "fal-ai/kling-video/v2.1/master/text-to-video",
            "fal-ai/kling-video/v2.1/standard/image-to-video",
            (5, 10),
            dict(LANDSCAPE),
            0.05,
            negative_arg=True,
            tier=Tier.DRAFT,
        ),
        FalModel(
            "kling-2.1-pro",
            "fal-ai/kling-video/v2.1/master/text-to-video",
            "fal-ai/kling-video/v2.1/pro/image-to-video",
            (5, 10),
            dict(HD),
            0.09,
            negative_arg=True,
            last_frame_arg="tail_image_url",
        ),
        FalModel(
            "hailuo-02",
            "fal-ai/minimax/hailuo-02/standard/text-to-video",
            "fal-ai/minimax/hailuo-02/standard/image-to-video",
            (6, 10),
            {"16:9": "1366x768", "9:16": "768x1366", "1:1": "768x768"},
            0.045,
            aspect_arg=False,
            last_frame_arg="end_image_url",
            tier=Tier.DRAFT,
        ),
        FalModel(
            "pika-2.2",
            "fal-ai/pika/v2.2/text-to-video",
            "fal-ai/pika/v2.2/image-to-video",
            (5, 10),
            dict(LANDSCAPE),
            0.04,
            duration="integer",
            resolution="720p",
            seed_arg=True,
            negative_arg=True,
        ),
        FalModel(
            "wan-2.2",
            "fal-ai/wan/v2.2-a14b/text-to-video",
            "fal-ai/wan/v2.2-a14b/image-to-video",
            (5,),
            dict(WAN),
            0.08,
            duration="frames",
            fps=16,
            resolution="720p",
            seed_arg=True,
            negative_arg=True,
        ),
        FalModel(
            "ltx-video",
            "fal-ai/ltx-video-13b-distilled",
            "fal-ai/ltx-video-13b-distilled/image-to-video",
            (4, 5, 6),
            {"16:9": "1216x704", "9:16": "704x1216", "1:1": "704x704"},
            0.02,
            duration="frames",
            fps=24,
            resolution="720p",
            seed_arg=True,
            negative_arg=True,
            tier=Tier.DRAFT,
        ),
    )
}


def arguments(
    model: FalModel,
    *,
    prompt: str,
    negative: str,
    seconds: int,
    aspect: str,
    seed: int | None,
    image_url: str | None,
    last_image_url: str | None,
) -> dict[str, Any]:
    """The JSON body fal's endpoint for ``model`` expects."""
    body: dict[str, Any] = {"prompt": prompt, **model.extra}
    if model.duration == "frames":
        body["num_frames"] = seconds * model.fps + 1  # these models count the first frame too
        body["frames_per_second"] = model.fps
    else:
        body["duration"] = str(seconds) if model.duration == "string" else seconds
    if model.aspect_arg:
        body["aspect_ratio"] = aspect
    if model.resolution:
        body["resolution"] = model.resolution
    if model.seed_arg and seed is not None:
        body["seed"] = seed
    if model.negative_arg and negative:
        body["negative_prompt"] = negative
    if image_url:
        body["image_url"] = image_url
    if last_image_url and model.last_frame_arg:
        body[model.last_frame_arg] = last_image_url
    return body
