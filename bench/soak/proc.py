"""One soak process: the production `clipdesk serve` or `clipdesk worker` with the flaky provider.

``python -m bench.soak.proc serve|worker``. Only the provider factory differs from
production (the soak must not call a paid service); settings come from the environment
as in production: CLI, doctor, migrations, scheduler, worker, deliverer, Slack adapter.
``SOAK_PROVIDER_DIR`` is the provider's shared job folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime.settings import Settings
from bench.soak.provider import NAME, FlakyProvider
from bot.ports import VideoProvider


def main() -> None:
    from adapters.providers import registry
    from adapters.runtime import cli, container

    # Known to the start-up checks (CLIPDESK_PROVIDER=flaky) and always configured.
    registry.PROVIDERS[NAME] = registry.ProviderSetup(lambda s: True, "nothing: the soak's fake")
    production_providers = container.build_providers

    def with_flaky(settings: Settings) -> dict[str, VideoProvider]:
        flaky = FlakyProvider(
            Path(os.environ["SOAK_PROVIDER_DIR"]),
            failure_rate=float(os.environ.get("SOAK_FAILURE_RATE", "0.1")),
        )
        return {**production_providers(settings), NAME: flaky}

    container.build_providers = with_flaky

    from adapters.slack import client as slack_client
    from adapters.slack import platform

    production_client = slack_client.web_client

    def named_client(token: str, base_url: str) -> AsyncWebClient:
        # Names this process on every Web API call, so the soak can say who posted a duplicate.
        client = production_client(token, base_url)
        client.headers["X-Soak-Process"] = os.environ.get("CLIPDESK_WORKER_ID", "")
        return client

    setattr(platform, "web_client", named_client)  # noqa: B010 (the module imported it by name)
    sys.argv = ["clipdesk", sys.argv[1]]
    cli.main()


if __name__ == "__main__":
    main()
