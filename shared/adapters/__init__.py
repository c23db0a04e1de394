"""Implementations of the ports, each named after its technology."""
