"""Outgoing webhooks in the Standard Webhooks format: an outbox sink, targets, the public event names."""
