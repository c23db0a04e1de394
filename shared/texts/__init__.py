"""User-facing text: the Japanese message catalogue (data, not code)."""
