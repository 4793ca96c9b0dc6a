"""A ComfyUI workflow file in API format, with the placeholders clipdesk fills in.

Export a workflow from ComfyUI with "Save (API)" and put placeholders where
clipdesk's values go, as whole string values (``"seed": "{{seed}}"`` becomes the
number) or inside text (``"text": "{{prompt}}, cinematic"``):

========================  ==========================================  ========
placeholder               value                                       needed
========================  ==========================================  ========
``{{prompt}}``            the shot's prompt                           yes
``{{seed}}``              the render's seed                           yes
``{{frames}}``            ``seconds × fps + 1`` (the first frame too)  yes
``{{width}}``             pixels                                      yes
``{{height}}``            pixels                                      yes
``{{negative_prompt}}``   the brief's negative prompt                 no
``{{fps}}``               frames per second                           no
``{{first_frame}}``       an uploaded image's name (``LoadImage``)    no
========================  ==========================================  ========

A top-level ``"clipdesk"`` object (removed before the graph is sent) says what the
workflow makes: ``model`` (a name), ``fps``, ``durations``, ``sizes`` (aspect →
``WxH``), ``audio`` and ``tier``. deploy/comfyui/ has one per model family.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED = frozenset({"prompt", "seed", "frames", "width", "height"})
KNOWN = REQUIRED | {"negative_prompt", "fps", "first_frame"}
NUMBERS = frozenset({"seed", "frames", "width", "height", "fps"})
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class WorkflowError(ValueError):
    """The workflow file cannot be used: clipdesk says which file and why."""


@dataclass(frozen=True)
class Workflow:
    """A validated API-format graph and what it can make."""

    path: Path
    graph: dict[str, Any]
    model: str
    fps: int
    durations: tuple[int, ...]
    sizes: dict[str, str]
    audio: bool = False
    tier: str = "final"
    placeholders: frozenset[str] = field(default_factory=frozenset)

    @property
    def takes_first_frame(self) -> bool:
        return "first_frame" in self.placeholders

    def fill(self, values: dict[str, Any]) -> dict[str, Any]:
        """A copy of the graph with every placeholder replaced by ``values``."""
        filled: dict[str, Any] = _fill(copy.deepcopy(self.graph), values)
        return filled


def load_workflow(path: Path) -> Workflow:
    """Read and check a workflow file.

    Raises:
        WorkflowError: unreadable JSON, not an API-format graph, a missing or unknown placeholder.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkflowError(f"cannot read the ComfyUI workflow {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise WorkflowError(f"{path} is not a ComfyUI workflow in API format (a JSON object of nodes)")
    meta = data.pop("clipdesk", {}) or {}
    if "nodes" in data and "links" in data:
        raise WorkflowError(f"{path} is a UI workflow; export it with 'Save (API)' instead")
    bad = [key for key, node in data.items() if not (isinstance(node, dict) and "class_type" in node)]
    if not data or bad:
        raise WorkflowError(f"{path} is not in ComfyUI's API format (nodes without class_type: {bad[:3]})")
    found = frozenset(_PLACEHOLDER.findall(json.dumps(data)))
    missing, unknown = REQUIRED - found, found - KNOWN
    if missing:
        names = ", ".join("{{" + m + "}}" for m in sorted(missing))
        raise WorkflowError(f"the ComfyUI workflow {path} lacks the placeholders clipdesk needs: {names}")
    if unknown:
        names = ", ".join("{{" + u + "}}" for u in sorted(unknown))
        raise WorkflowError(f"the ComfyUI workflow {path} has placeholders clipdesk does not fill: {names}")
    try:
        return Workflow(
            path=Path(path),
            graph=data,
            model=str(meta.get("model") or Path(path).stem),
            fps=int(meta.get("fps", 24)),
            durations=tuple(int(d) for d in meta.get("durations", (2, 3, 4, 5))),
            sizes={str(k): str(v) for k, v in (meta.get("sizes") or {"16:9": "848x480"}).items()},
            audio=bool(meta.get("audio", False)),
            tier=str(meta.get("tier", "final")),
            placeholders=found,
        )
    except (TypeError, ValueError) as exc:
        raise WorkflowError(f'the "clipdesk" section of {path} is malformed: {exc}') from exc


def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole and whole.group(1) in NUMBERS:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), value)
    return value
