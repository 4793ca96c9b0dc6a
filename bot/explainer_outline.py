"""The offline refiner's explainer outlines: honest scripts made from the ask's own words.

Without an LLM there are no facts to add, so an outline names the topic, its key terms and a
learning goal, one line per shot, and the brief says that a real script needs the LLM.
"""

from __future__ import annotations

import re

from bot.explainers import Explainer, shorten

_AUDIENCE = re.compile(
    r"[,;]?\s+(?:for|to)\s+((?:\d{1,2}[- ]?(?:to|-)?\s*\d{0,2}[- ]?years?[- ]olds?|"
    r"ages?\s+\d+(?:\s*-\s*\d+)?|"
    r"(?:year|grade|class)\s+\d+|(?:\w+\s+)?(?:pupils|students|kids|children|beginners|teenagers|teens|adults|"
    r"teachers|schoolchildren))\b.*)$",
    re.IGNORECASE,
)
_EXPLAIN_WORDS = re.compile(
    r"^(?:(?:please\s+)?(?:explain(?:er)?|teach(?:\s+me)?)\s+(?:(?:of|on|about|how|why)\s+)?)", re.IGNORECASE
)
_JOINERS = re.compile(r"\s+(?:vs\.?|versus|and|or|compared\s+(?:to|with))\s+|\s*,\s*", re.IGNORECASE)


def split_audience(subject: str) -> tuple[str, str]:
    """ "laminar flow for 14-year-olds" → ("laminar flow", "14-year-olds")."""
    match = _AUDIENCE.search(subject)
    if not match:
        return subject, ""
    return subject[: match.start()].strip(" ,.;:"), match.group(1).strip(" ,.;:")


def key_terms(topic: str) -> tuple[str, ...]:
    """The ask's own terms: "laminar vs turbulent flow" → ("laminar flow", "turbulent flow")."""
    parts = [p.strip(" .") for p in _JOINERS.split(topic) if p and p.strip(" .")]
    if len(parts) < 2:
        return (topic,)
    tail = parts[-1].split()
    # "laminar vs turbulent flow": the shared noun is said once, after the last term
    if len(tail) > 1 and all(len(p.split()) == 1 for p in parts[:-1]):
        parts = [f"{p} {tail[-1]}" for p in parts[:-1]] + [parts[-1]]
    return tuple(dict.fromkeys(parts))


def outline(subject: str, seconds: list[float], audience: str | None) -> Explainer:
    """An honest outline from the ask's own words: it names the topic and its terms, and invents nothing."""
    topic, asked_for = split_audience(_EXPLAIN_WORDS.sub("", subject).strip() or subject)
    terms = key_terms(topic)
    language = script_language(topic)
    if language != "en":  # no English connectives in another script: the ask's own words alone
        stop = "。" if language in ("zh", "ja") else "."
        words = [f"{w.rstrip('。.')}{stop}" for w in (topic, *terms)]
        lines_cjk = [words[i % len(words)] for i in range(max(0, len(seconds) - 1))] + [words[0]]
        return Explainer(
            script=tuple(shorten(line, s) for line, s in zip(lines_cjk, seconds, strict=False)),
            key_terms=terms,
            goal=topic,
            audience=audience or asked_for,
            language=language,
            outline_only=True,
        )
    title = topic[:1].upper() + topic[1:]
    middle = [f"First, {terms[0]}." if len(terms) > 1 else f"{title}."]
    middle += [f"Next, {term}." for term in terms[1:]]
    if len(terms) > 1:
        middle.append(f"{' and '.join(terms)}, side by side.".capitalize())
    lines = [f"{title}."]
    count = len(seconds)
    if count == 2:
        lines.append(f"That was {topic}.")
    elif count > 2:
        body = count - 2
        lines += [
            middle[i % len(middle)] if i < len(middle) else f"Look again: {terms[i % len(terms)]}."
            for i in range(body)
        ]
        lines.append(f"That was {topic}.")
    script = tuple(shorten(line, s) for line, s in zip(lines, seconds, strict=True))
    goal = f"Tell {' and '.join(terms)} apart." if len(terms) > 1 else f"Recognise {topic}."
    return Explainer(
        script=script,
        key_terms=terms,
        goal=goal,
        audience=audience or asked_for,
        language="en",
        outline_only=True,
    )


def script_language(text: str) -> str:
    """The language an outline is spoken in, from its script: Chinese, Japanese, Korean, else English."""
    letters = sum(1 for c in text if c.isalpha()) or 1
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    kana = sum(1 for c in text if "\u3040" <= c <= "\u30ff")
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7af")
    if kana and (kana + han) / letters > 0.3:
        return "ja"
    if hangul / letters > 0.3:
        return "ko"
    return "zh" if han / letters > 0.3 else "en"


def _outline_picture(index: int, count: int, explainer: Explainer) -> str:
    """What an outline shot shows: its line as a labelled diagram (the animatic draws the words)."""
    line = explainer.script[index].rstrip(".…") if index < len(explainer.script) else ""
    if index == 0:
        return f"Title card introducing {line.lower() if line else 'the topic'}"
    if index == count - 1:
        return f"Summary frame recapping {', '.join(explainer.key_terms)}"
    return f"Labelled diagram: {line}" if line else "Labelled diagram"
