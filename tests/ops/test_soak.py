"""The one-minute soak of `make test`: replicas SIGKILLed under load lose nothing and post nothing twice.

The same runner as `make soak` (bench/soak/), smaller: two `clipdesk serve` replicas (Slack
HTTP mode, the fake Slack) and two `clipdesk worker` processes on a fresh PostgreSQL database,
a flaky provider, ~0.5 asks a second and one replica killed and restarted every ~10 s for
60 s, then a drain with a deadline. Small connection pools: the whole suite shares one server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak.runner import SoakConfig, run_soak
from tests.conftest import PG_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(300)]


async def test_a_minute_of_kill_9_loses_no_ask_and_duplicates_no_job_or_post(
    postgres_url: str, tmp_path: Path
) -> None:
    # postgres_url: skipped without a server, a failure under CLIPDESK_REQUIRE_POSTGRES=1; the soak
    # makes (and drops) its own database on that server.
    config = SoakConfig(
        seconds=60.0,
        asks_per_second=0.5,
        kill_every=10.0,
        drain_seconds=150.0,
        serves=2,
        workers=2,
        seed=15,
        postgres=PG_URL,
        pool_size=3,
    )
    report = await run_soak(config, tmp_path)
    figures = "\n".join(report.lines())

    assert report.kills >= 2, figures  # the chaos really happened
    assert report.acknowledged >= 10 and report.clips >= 5, figures  # and work flowed through it
    assert report.drained, figures
    assert report.lost == [], figures
    assert report.duplicate_jobs == {}, figures
    assert report.duplicate_parents == {}, figures
    assert report.duplicate_clips == {}, figures
    assert report.duplicate_requests == {}, figures
