"""Running the operator's policy rules that need more than the standard library (patterns)."""
