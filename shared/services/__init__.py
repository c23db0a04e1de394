"""Use cases. Ports (store, LINE, clock) come in as arguments."""
