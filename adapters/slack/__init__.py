"""The Slack adapter: slack-bolt (async) in Socket Mode or HTTP mode.

It translates Slack payloads into core events (:mod:`adapters.slack.events`) and
core messages into Block Kit (:mod:`adapters.slack.blocks`); every decision is
the core's. Entry point: :func:`adapters.slack.platform.slack_platform`.
"""

PLATFORM = "slack"
