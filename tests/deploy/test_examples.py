"""The top-level templates an operator copies: ``.env.example`` and ``clipdesk.example.toml``."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from adapters.runtime.container import base_policy
from adapters.runtime.settings import Settings
from bot.policy_file import KEYS, load_policy

ROOT = Path(__file__).resolve().parents[2]


def setting_names() -> set[str]:
    """Every environment variable :class:`Settings` reads."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(f"CLIPDESK_{name.upper()}")
        if isinstance(field.validation_alias, AliasChoices):
            names.update(str(choice) for choice in field.validation_alias.choices)
    return names


def test_the_policy_example_is_accepted_by_the_policy_loader_and_uses_every_setting() -> None:
    path = ROOT / "clipdesk.example.toml"
    policies = load_policy(path, base_policy(Settings(_env_file=None)))
    assert policies.base.approvers == frozenset({"U012LEAD"})
    assert policies.workspaces and policies.channels
    text = path.read_text()
    for key in KEYS:
        assert re.search(rf"^{key}\s*=|^\[.*\.{key}\]", text, re.MULTILINE), f"{key} is not in the example"


def test_every_variable_in_the_env_template_is_a_real_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    compose_only = {"POSTGRES_PASSWORD"}
    assert named - compose_only <= setting_names(), named - compose_only - setting_names()
    for wanted in ("CLIPDESK_OPENAI_VIDEO_BASE_URL", "CLIPDESK_OPENAI_VIDEO_API_KEY", "SLACK_BOT_TOKEN"):
        assert wanted in named
