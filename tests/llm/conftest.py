"""The fake OpenAI server and a real ``AsyncOpenAI`` client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from tests.fakes.openai import FakeOpenAI


@pytest.fixture
async def fake_openai(tmp_path: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmp_path / "fake_openai") as fake:
        yield fake


@pytest.fixture
async def openai_client(fake_openai: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with fake_openai.client() as client:
        yield client
