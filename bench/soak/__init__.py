"""The soak: replicas of `clipdesk serve` and `clipdesk worker` on PostgreSQL under kill -9.

``python -m bench.soak`` (``make soak``) runs it for ``SOAK_SECONDS`` (default 300) and
exits non-zero on any lost ask, duplicate provider job or duplicate post.
"""
