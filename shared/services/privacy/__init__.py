"""Privacy over time: erasure, retention and a user's copy of their data."""
