"""Consent to the operations policy: the gate, the answers, the versions."""
