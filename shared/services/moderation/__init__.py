"""Prohibited acts: screening, flags, suspension, restriction, floods."""
