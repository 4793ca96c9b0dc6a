"""Thread messages of cuts and takes: a cut's shots and picker, variants side by side, the voice.

Split from :mod:`bot.views` (which re-exports these) to keep each module readable.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from bot.cuts import Cut
from bot.domain import Brief, Render, VideoRequest
from bot.messages import Action, Button, Field, Form, FormField, Message, Option, Picker, Style
from bot.texts import money


def retry_narration_button(request: VideoRequest, render: Render, notes: Sequence[str]) -> tuple[Button, ...]:
    """Offered only when the clip went out without its voice (captions only)."""
    if texts.NARRATION_FAILED not in notes:
        return ()
    return (Button("Retry narration", Action.RETRY_NARRATION, request.id, render_id=render.id),)


def cut_clip_message(
    render: Render,
    brief: Brief,
    request: VideoRequest,
    cut: Cut,
    shots: Sequence[Render],
    disclosure: str = "",
    notes: Sequence[str] = (),
) -> Message:
    """A cut ready for review: its shots with maker, seed and cost, and a picker to redo one."""
    by_id = {s.id: s for s in shots}
    lines, total = [], 0.0
    words = {s.index: s.description for s in brief.shots}
    for shot in cut.shots:
        made = by_id.get(shot.render_id)
        cost = (made.cost_actual if made.cost_actual is not None else made.cost_estimate) if made else 0.0
        total += cost
        maker = f"{made.provider}/{made.model}" if made else "?"
        lines.append(
            f"{shot.index}. {shot.seconds}s · {maker} · seed {shot.seed} · {money(cost)}"
            + (" · reused" if shot.reused else "")
            + (" · continues" if shot.continues else "")
        )
    findings = "\n".join([*(f"⚠ {finding}" for finding in render.qc_findings), *notes])
    body = "*Shots:*\n" + "\n".join(lines) + (f"\n{findings}" if findings else "")
    options = tuple(
        Option(f"Shot {s.index} · {s.seconds}s · {words.get(s.index, '')}"[:75], s.render_id)
        for s in cut.shots
    )
    decide = (
        (Button("Make final", Action.MAKE_FINAL, request.id, Style.PRIMARY, render.id),)
        if cut.draft
        else (Button("Approve", Action.APPROVE, request.id, Style.PRIMARY, render.id),)
    )
    kind = "Draft" if cut.draft else "Cut"
    return Message(
        text=f"🎬 {kind} v{cut.version} is ready for review ({len(cut.shots)} shots, brief v{brief.version})",
        body=body,
        fields=(
            Field("Provider", f"{render.provider} · {render.model}"),
            Field("Length", f"{cut.seconds}s"),
            Field("Size", render.size),
            Field("Cost", money(total)),
            Field("Version", f"v{brief.version} · cut v{cut.version}" + (" · draft" if cut.draft else "")),
        ),
        buttons=(
            *decide,
            Button("Regenerate", Action.REGENERATE, request.id, render_id=render.id),
            Button("Edit prompt", Action.EDIT, request.id, render_id=render.id),
            *(
                (Button("Edit script", Action.EDIT_SCRIPT, request.id, render_id=render.id),)
                if brief.explainer
                else ()
            ),
            *retry_narration_button(request, render, notes),
            Button("Reject", Action.REJECT, request.id, Style.DANGER, render.id),
        ),
        pickers=(
            Picker("Regenerate one shot…", Action.REGENERATE_SHOT, request.id, options),
            Picker("Edit one shot…", Action.EDIT_SHOT, request.id, options),
        ),
        context=(f"{disclosure} · " if disclosure else "")
        + "An approver decides here; pick a shot to render only that one again.",
    )


def edit_shot_form(request: VideoRequest, index: int, words: str, render_id: str | None) -> Form:
    return Form(
        title=f"Edit shot {index}",
        action=Action.EDIT_SHOT,
        request_id=request.id,
        render_id=render_id,
        fields=(FormField("shot", f"What shot {index} shows", words[:3000], multiline=True),),
        submit_label="Render this shot",
    )


def take_message(render: Render, brief: Brief, count: int) -> Message:
    """One take of several: shown for comparison; the decision waits for a pick."""
    return Message(
        text=f"🎞️ Take #{render.variant} of {count} (v{brief.version})",
        fields=(
            Field("Provider", f"{render.provider} · {render.model}"),
            Field("Length", f"{render.seconds}s"),
            Field(
                "Cost", money(render.cost_actual if render.cost_actual is not None else render.cost_estimate)
            ),
        ),
        context="Compare the takes on the contact sheet below, then pick one.",
    )


def variants_message(request: VideoRequest, takes: Sequence[Render]) -> Message:
    """The contact sheet's message: a Pick button per take."""
    return Message(
        text=texts.takes_side_by_side(len(takes)),
        body="One row per take, frames at 10 %, 30 %, 50 %, 70 % and 90 % of each clip.",
        buttons=tuple(
            Button(f"Pick #{take.variant}", Action.PICK, request.id, render_id=take.id) for take in takes
        ),
    )


def picked_message(request: VideoRequest, takes: Sequence[Render], picked: Render, who: str) -> Message:
    return Message(
        text=f"✅ Take #{picked.variant} picked by <@{who}>; the other takes are archived.",
        mentions=(who,),
        body=" · ".join(
            f"#{t.variant}" + (" (picked)" if t.id == picked.id else " (archived)") for t in takes
        ),
    )
