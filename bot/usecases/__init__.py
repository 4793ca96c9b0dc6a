"""The use cases: one small object per thing a person (or the clock) can ask the core to do.

Each takes a typed command from :mod:`bot.commands`, applies the rules, changes
state only through :mod:`bot.transitions`, and returns a typed result. None of
them posts to a chat: the events they record reach the thread through the
outbox and its sinks.
"""
