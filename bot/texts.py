"""The words clipdesk says to people, in one place (the message layouts are in :mod:`bot.views`).

Use cases and rules raise typed errors built from these; adapters show them.
Nothing outside ``bot/texts.py`` and ``bot/views.py`` writes user-facing text.
"""

from __future__ import annotations

from collections.abc import Sequence


def money(amount: float) -> str:
    return "free" if amount == 0 else f"${amount:,.2f}"


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- asks

EMPTY_ASK = "Tell me what to make, e.g. `/video a 12s product demo of our steel water bottle, vertical`."
NO_CONTENT = (
    "I need a few words about the video itself, e.g. `/video a calm explainer of laminar vs turbulent flow`."
)
EMPTY_PROMPT = "The prompt can't be empty. Describe the video you want."
CONTROL_CHARACTERS = (
    "Your message contains control characters (such as a NUL byte) that I can't store. "
    "Please send it again as plain text."
)


def too_long(what: str, length: int, limit: int) -> str:
    return (
        f"That {what} is {length:,} characters; please keep it under {limit:,}. "
        "Describe the video in a few sentences and I will write the detailed brief."
    )


def unknown_option(name: str, known: Sequence[str]) -> str:
    return f"I don't know the option `--{name}`. Options are {', '.join(f'`--{k}`' for k in known)}."


def option_needs_value(name: str, example: str) -> str:
    return f"`--{name}` needs a value, e.g. `{example}`."


def bad_seconds(value: str) -> str:
    return f"`--seconds {value}` is not a whole number of seconds, e.g. `--seconds 8`."


def bad_aspect(value: str, aspects: Sequence[str]) -> str:
    return (
        f"`--aspect {value}` is not an aspect I can make. Use one of {', '.join(aspects)} "
        "(or say vertical, horizontal, square)."
    )


def bad_variants(value: str, most: int) -> str:
    return f"`--variants {value}` must be a number from 1 to {most}."


def bad_quality(value: str, qualities: Sequence[str]) -> str:
    return f"`--quality {value}` must be one of {', '.join(qualities)}."


# ------------------------------------------------------------------------- planning


def unknown_provider(name: str, available: Sequence[str]) -> str:
    return f"I don't know the provider `{name}`. Available here: {', '.join(available)}."


def unknown_model(provider: str, wanted: str, models: Sequence[str]) -> str:
    return f"{provider} has no model `{wanted}`. Try one of: {', '.join(models)}."


def aspect_not_made(provider: str, model: str, aspects: Sequence[str], wanted: str) -> str:
    return f"{provider} ({model}) makes {', '.join(aspects)}, not {wanted}."


def seconds_not_made(provider: str, model: str, durations: Sequence[int], wanted: int, nearest: int) -> str:
    allowed = ", ".join(str(d) for d in durations)
    return (
        f"{provider} ({model}) can make clips of {allowed} seconds, not {wanted}. Try `--seconds {nearest}`."
    )


def provider_not_allowed(allowed: Sequence[str], wanted: str) -> str:
    return f"This workspace allows the providers {', '.join(allowed)}, not `{wanted}`."


NO_PROVIDER_ALLOWED = "No video provider is allowed here; ask an admin to check the policy."


# --------------------------------------------------------------------- who may act

NOT_FOUND = "I can't find that video request any more; start a new one with `/video`."
REQUESTERS_ONLY = "Video requests are limited to listed people here. Ask an approver to add you."


def approvers_only(approvers: str, verb: str) -> str:
    return f"Only approvers ({approvers}) can {verb} clips."


def not_your_own(approvers: str, verb: str) -> str:
    return f"You asked for this clip, so someone else must {verb} it (approvers: {approvers})."


def requester_or_approver(verb: str) -> str:
    return f"Only the requester or an approver can {verb} this request."


def already(status: str, verb: str) -> str:
    """What a late or second click is told."""
    return f"Nothing to {verb}: this request is already {status.replace('_', ' ')}."


NO_BRIEF = "This request has no brief yet."
NO_CLIP = "There is no finished clip to decide on yet."
NOT_THIS_REQUEST = "That clip is not part of this request."
REASON_NEEDED = "A rejection needs a reason, so the requester knows what to change."
NOTHING_TO_CANCEL = "You have no request that can still be cancelled."
NOT_BLOCKED = "This request is not blocked."
APPEAL_DECIDED = "This appeal was already decided."


def older_version(version: int, latest: int) -> str:
    return f"This is an older version (v{version}); review v{latest} below."


# ---------------------------------------------------------------------- money


def over_budget(adding: float, scope: str, left: float, limit: float) -> str:
    return (
        f"This render would cost ${adding:,.2f}, but the {scope} budget has "
        f"${left:,.2f} left this month (of ${limit:,.2f}). Nothing was queued."
    )


# ------------------------------------------------------------------ checks, failures

MODERATION_DOWN = (
    "⚠️ Content checks are unavailable right now, so nothing was made or charged. "
    "Please try again in a few minutes."
)
MODERATION_DOWN_REASON = (
    "Moderation is unavailable right now, so nothing was rendered. Retry in a few minutes."
)


def moderation_misconfigured(variable: str) -> str:
    return (
        f"Content checks are misconfigured ({variable}), so nothing was rendered. This is not a "
        "passing outage: ask an operator to fix the setting, then press Retry."
    )


def checks_unavailable(exc: Exception) -> str:
    """Why nothing was made when the configured moderator cannot be used."""
    variable = getattr(exc, "variable", None)
    return moderation_misconfigured(variable) if variable else MODERATION_DOWN_REASON


INTERNAL_ERROR = "⚠️ Something went wrong on our side and it was logged. Nothing was charged — retry?"
LLM_FALLBACK = "ℹ️ The AI prompt writer is unavailable right now; I wrote the brief offline."
NO_LLM_CONFIGURED = (
    "ℹ️ Only a video endpoint is configured here, so I write briefs offline and check content "
    "with this workspace's own rules only (an operator can add an LLM endpoint with OPENAI_API_KEY)."
)


def blocked(reason: str) -> str:
    return f"I can't make this video: {reason}."


def no_thread(error: str) -> str:
    return f"I could not open a thread for this request here ({error}). Invite me to the channel and retry."


def provider_down_no_alternative(provider: str, error: str) -> str:
    return (
        f"{provider} is unavailable ({error}) and no other provider this workspace allows can make this clip."
    )


def failover_note(provider: str, error: str, to: str) -> str:
    return f"↪️ {provider} is unavailable ({error}); moving this render to {to}."


def gave_up(attempts: int, reason: str) -> str:
    return f"gave up after {attempts} tries: {reason}"


def refused_by(provider: str, reason: str) -> str:
    return f"{provider} refused the prompt: {reason}"


def not_finished_within(seconds: float) -> str:
    if seconds < 120:
        return f"the provider did not finish within {seconds:.0f} seconds of submission"
    return f"the provider did not finish within {seconds / 60:.0f} minutes of submission"


SUBMISSION_UNCERTAIN = (
    "the provider did not confirm whether it started this render, and it cannot be looked up; "
    "its estimate is counted against the budget. An approver may press Retry"
)
STORAGE_FULL = "the media folder is full or not writable; the render resumes when space is freed"


def qc_regenerating(findings: Sequence[str]) -> str:
    return (
        f"⚠️ The clip failed automatic checks ({'; '.join(findings)}); "
        "making it once more before anyone reviews it."
    )


# ----------------------------------------------------------------------------- cuts (multi-shot)


def cut_too_long(wanted: int, limit: int) -> str:
    return (
        f"{wanted} seconds is longer than the {limit} seconds clipdesk makes in one cut. "
        f"Try `--seconds {limit}` or less, or split the film into several asks."
    )


def bad_shots(wanted: int, limit: int) -> str:
    return f"A cut has 1 to {limit} shots, not {wanted}. Try `--shots 4`."


def cut_cannot_add_up(
    wanted: int, durations: Sequence[int], shots: int | None, nearest: Sequence[int]
) -> str:
    lengths = ", ".join(str(d) for d in durations)
    count = f"{shots} shots" if shots else "shots"
    options = " or ".join(f"`--seconds {n}`" for n in nearest)
    return f"{wanted} seconds cannot be made from {count} of {lengths} seconds (what the model makes)." + (
        f" The nearest lengths that can: {options}." if nearest else ""
    )


def no_such_shot(wanted: int, count: int) -> str:
    return f"This cut has shots 1 to {count}; there is no shot {wanted}."


def shot_failed(index: int, reason: str) -> str:
    return f"Shot {index} could not be made: {reason}"


def shot_unusable(index: int, reason: str) -> str:
    return f"Shot {index} could not be stitched into the cut: {reason}"


def chain_broken(index: int, previous: int) -> str:
    return f"Shot {index} continues shot {previous}, which failed, so it cannot start."


NOT_A_CUT = "This clip is a single shot; use Regenerate or Edit prompt for it."
VARIANT_CUTS = "Variants of a multi-shot cut are not offered yet: ask for one cut, or a shorter clip."
OLDER_CUT = "A newer cut of this brief was posted since; decide on the newest one."


TAKE_GONE = "That take was archived when another was picked."


def takes_side_by_side(count: int) -> str:
    return f"🎞️ {count} takes side by side: pick one to review (the others are archived)."


NO_FINAL = "No provider this workspace allows can make the final of this draft."
NOT_A_DRAFT = "This clip is already a final; approve it, or regenerate it."
A_DRAFT_IS_NOT_APPROVED = (
    "This is a draft: press *Make final* to render it at full quality, then approve the final."
)


def final_rendering(provider: str, model: str, cost: str, draft_cost: str) -> str:
    return (
        f"⏫ Rendering the final on {provider} · {model} ({cost}; the draft cost {draft_cost}), "
        "same shots and seeds."
    )


def draft_and_final(draft: str, final: str | None) -> str:
    return f"{draft} draft · {final} final" if final is not None else f"{draft} draft (no final available)"


# ------------------------------------------------------------------------- explainers

NO_SCRIPT = "This request has no narration script to edit (it is not an explainer)."
EMPTY_SCRIPT = "The script can't be empty. Write what the narrator says, one line per shot."
OUTLINE_ONLY = (
    "ℹ️ This script is an outline made from your own words, not an explanation: writing a real "
    "script (with facts) needs the AI prompt writer (set OPENAI_API_KEY). "
    "Press Edit script to write it yourself."
)


def bad_captions(value: str) -> str:
    return f"`--captions {value}` must be burn, off, on or a language such as es or zh-CN."


def script_shortened(shots: Sequence[int]) -> str:
    listed = ", ".join(str(s) for s in shots)
    return f"✂️ The script was too long for the clip, so I shortened shot {listed} to fit."


def script_too_long(needs: float, seconds: int) -> str:
    return (
        f"The script needs about {needs:.0f} s of speech but the clip is {seconds} s. "
        f"Shall I make it longer (reply `--seconds {max(seconds + 5, round(needs * 1.15))}`) "
        "or cover fewer points?"
    )


def no_translation(language: str) -> str:
    return (
        f"ℹ️ Captions in {language} need the AI prompt writer to translate them (set OPENAI_API_KEY); "
        "the captions are in the script's language."
    )


def machine_translated(language: str) -> str:
    return f"🌐 Captions in {language} are machine-translated."


def no_voice(language: str) -> str:
    return f"🔇 No voice speaks {language}, so this clip has captions only."


NARRATION_FAILED = (
    "🔇 The narration could not be made this time, so this clip has captions only. "
    "*Retry narration* speaks it again under this clip (no new render)."
)
NARRATED_AGAIN = "🔊 The narration was made again: the clip with its voice is below."
NARRATION_NOT_FAILED = "This clip already has its narration; there is nothing to retry."
NARRATION_FAILED_AGAIN = (
    "🔇 The narration could not be made this time either; the clip is unchanged. Try again later."
)


def shot_edited(index: int) -> str:
    return f"shot {index} rewritten"


def shot_rerendering(index: int, version: int, cost: str) -> str:
    return f"🔁 Rendering shot {index} again ({cost}); the other shots are reused. Cut v{version} follows."


# ----------------------------------------------------------------------------- REST API and webhooks

API_NO_TOKEN = (
    "Send an API token as `Authorization: Bearer <token>` (make one with `clipdesk tokens create`)."
)
API_BAD_TOKEN = "That API token is unknown or was revoked; ask an operator for a new one."
API_RATE_LIMITED = "Too many calls with this token; wait a moment and try again."
API_IDEMPOTENCY_REUSED = "This Idempotency-Key was already used for a different request body; use a new key."
API_IDEMPOTENCY_BUSY = "A request with this Idempotency-Key is still being recorded; retry in a moment."
API_BAD_CURSOR = "That page cursor is not one this API gave out; start again from the first page."
WEBHOOK_NOT_FOUND = "I can't find that webhook endpoint in this workspace."


def api_scope_missing(scope: str) -> str:
    return f"This API token may not do that: it needs the `{scope}` scope."


def webhook_target_refused(reason: str) -> str:
    return f"That webhook URL can't be used: {reason}."


# ----------------------------------------------------------------------------- review page

REVIEW_LINK_EXPIRED = "This sign-in link has expired. Press “Open review page” in the thread for a new one."
REVIEW_LINK_USED = "This sign-in link was already used. Press “Open review page” in the thread for a new one."
REVIEW_LINK_INVALID = "This sign-in link is not valid. Press “Open review page” in the thread for a new one."
REVIEW_SIGN_IN = "Sign in first: press “Open review page” on a clip in the thread."
REVIEW_CSRF = "This form did not come from the review page (its security token is missing); reload and retry."
