"""Statistics: entries counted as things happen, and publishable tables."""
