"""Consultations: sessions, the experts' answers, console and board."""
